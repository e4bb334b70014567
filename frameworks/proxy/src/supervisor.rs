//! Running the app ourselves: `lambda-adapter -- CMD ARGS...`.
//!
//! The app runs in its own process group (so that everything it starts is signalled with it),
//! with the adapter's environment and standard streams. When it dies the crash is logged, the
//! readiness gate closes (invocations wait), and it is started again — at once the first time,
//! then with a growing pause (up to 5 s) while it keeps dying within 10 s of starting — and the
//! gate opens when the readiness check passes again. On shutdown the group gets `SIGTERM`, and
//! `SIGKILL` if it is still there after the grace period.

use std::ffi::OsString;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serverless_adapter_core::Error;
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::readiness::{ReadinessCheck, ReadinessGate};

/// A run shorter than this counts as a crash loop: the next restart waits longer.
const STABLE_RUN: Duration = Duration::from_secs(10);
/// The longest pause between restarts.
const MAX_RESTART_PAUSE: Duration = Duration::from_secs(5);
/// The pause before the second quick restart in a row (then doubled each time).
const FIRST_RESTART_PAUSE: Duration = Duration::from_millis(100);

struct Shared {
    stop: Notify,
    grace: Mutex<Option<Duration>>,
    restarts: AtomicU64,
    pid: Mutex<Option<u32>>,
}

/// Supervises the app process.
#[derive(Debug)]
pub struct Supervisor {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<Option<ExitStatus>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("pid", &self.pid.lock().ok().and_then(|pid| *pid))
            .field("restarts", &self.restarts.load(Ordering::Relaxed))
            .finish()
    }
}

fn spawn(command: &[OsString]) -> std::io::Result<Child> {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..])
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd.spawn()
}

fn describe(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(signal) => format!("signal {signal}"),
            Err(_) => format!("signal {signal}"),
        },
        _ => status.to_string(),
    }
}

fn signal_group(pid: u32, signal: Signal) {
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    if let Err(error) = killpg(Pid::from_raw(pid), signal) {
        tracing::debug!(error = %error, %signal, "signalling the app's process group failed");
    }
}

impl Supervisor {
    /// Starts `command` (the program, then its arguments) and supervises it. The first start
    /// happens now, so that a command that cannot be run is an error right away; `gate` is
    /// closed while the app is not ready and opened by `check`, which gives up after
    /// `first_timeout` the first time (restarts wait as long as it takes).
    pub fn start(
        command: Vec<OsString>,
        check: ReadinessCheck,
        gate: ReadinessGate,
        first_timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        if command.is_empty() {
            return Err(Error::config("no command to run after `--`"));
        }
        let child = spawn(&command).map_err(|error| {
            Error::config(format!(
                "the app command {:?} cannot be started: {error}",
                command[0]
            ))
        })?;
        tracing::info!(command = ?command, pid = child.id(), "the app is started");
        gate.set_pending();
        gate.set_supervised(true);
        let shared = Arc::new(Shared {
            stop: Notify::new(),
            grace: Mutex::new(None),
            restarts: AtomicU64::new(0),
            pid: Mutex::new(child.id()),
        });
        let task = tokio::spawn(supervise(
            command,
            child,
            check,
            gate,
            first_timeout,
            shared.clone(),
        ));
        Ok(Self { shared, task })
    }

    /// The app's process id (its process group id too), while it runs.
    pub fn pid(&self) -> Option<u32> {
        *self.shared.pid.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many times the app was restarted.
    pub fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// Stops the app: `SIGTERM` to its process group, then `SIGKILL` after `grace`. Returns
    /// how the app ended (`None` if it was not running).
    pub async fn shutdown(self, grace: Duration) -> Option<ExitStatus> {
        *self.shared.grace.lock().unwrap_or_else(|p| p.into_inner()) = Some(grace);
        self.shared.stop.notify_one();
        self.task.await.ok().flatten()
    }
}

async fn supervise(
    command: Vec<OsString>,
    mut child: Child,
    check: ReadinessCheck,
    gate: ReadinessGate,
    first_timeout: Option<Duration>,
    shared: Arc<Shared>,
) -> Option<ExitStatus> {
    let mut timeout = first_timeout;
    let mut quick_crashes: u32 = 0;
    loop {
        let started = Instant::now();
        let pid = child.id();
        let readiness = {
            let gate = gate.clone();
            let check = check.clone();
            async move {
                match check.wait(timeout).await {
                    Ok(_) => gate.set_ready(),
                    Err(error) => {
                        tracing::error!(error = error.message(), "the app did not become ready");
                        gate.fail(error.message().to_owned());
                    }
                }
                std::future::pending::<()>().await;
            }
        };
        timeout = None;
        let exited = tokio::select! {
            status = child.wait() => status,
            () = readiness => unreachable!("the readiness future never ends"),
            () = shared.stop.notified() => return stop(child, &shared).await,
        };
        gate.set_pending();
        *shared.pid.lock().unwrap_or_else(|p| p.into_inner()) = None;
        // Whatever the app left in its group goes with it.
        if let Some(pid) = pid {
            signal_group(pid, Signal::SIGKILL);
        }
        let lived = started.elapsed();
        match &exited {
            Ok(status) => tracing::error!(
                status = %describe(status),
                lived_ms = lived.as_millis() as u64,
                "the app exited; restarting it"
            ),
            Err(error) => {
                tracing::error!(error = %error, "the app could not be waited for; restarting it")
            }
        }
        quick_crashes = if lived < STABLE_RUN {
            quick_crashes + 1
        } else {
            0
        };
        let pause = if quick_crashes <= 1 {
            Duration::ZERO
        } else {
            (FIRST_RESTART_PAUSE * 2u32.saturating_pow(quick_crashes - 2)).min(MAX_RESTART_PAUSE)
        };
        loop {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shared.stop.notified() => return exited.ok(),
            }
            match spawn(&command) {
                Ok(new_child) => {
                    child = new_child;
                    shared.restarts.fetch_add(1, Ordering::Relaxed);
                    *shared.pid.lock().unwrap_or_else(|p| p.into_inner()) = child.id();
                    tracing::info!(pid = child.id(), "the app is started again");
                    break;
                }
                Err(error) => {
                    tracing::error!(error = %error, "the app cannot be started again; retrying");
                }
            }
        }
    }
}

async fn stop(mut child: Child, shared: &Shared) -> Option<ExitStatus> {
    let grace = shared
        .grace
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .unwrap_or(Duration::ZERO);
    let pid = child.id()?;
    signal_group(pid, Signal::SIGTERM);
    let status = match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "the app did not stop after SIGTERM; killing it"
            );
            signal_group(pid, Signal::SIGKILL);
            child.wait().await.ok()
        }
    };
    // Anything the app started and left behind in its group.
    signal_group(pid, Signal::SIGKILL);
    *shared.pid.lock().unwrap_or_else(|p| p.into_inner()) = None;
    if let Some(status) = &status {
        tracing::info!(status = %describe(status), "the app stopped");
    }
    status
}
