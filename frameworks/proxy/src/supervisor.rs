//! Running the app ourselves: `lambda-adapter -- CMD ARGS...`.
//!
//! The app runs in a process group of its own (so that everything it starts is signalled with
//! it), with the adapter's environment and standard streams. When it dies the crash is logged,
//! the readiness gate closes (invocations wait), and it is started again — at once the first
//! time, then with a growing pause (up to 5 s) while it keeps dying within 10 s of starting —
//! and the gate opens when the readiness check passes again. On shutdown the group gets
//! `SIGTERM`, and `SIGKILL` if it is still there after the grace period.
//!
//! # Nothing is left behind
//! However the supervisor ends, the app's process group ends with it:
//! - [`Supervisor::shutdown`]: `SIGTERM`, then `SIGKILL` to the group;
//! - dropping the [`Supervisor`] (which an unwinding panic does), or cancelling or unwinding
//!   its task (a runtime shut down, a panic inside it): `SIGKILL` to the group, by the owner of
//!   each start of the app;
//! - the supervising process dying without any of that (`SIGKILL`, an abort): only with
//!   [`Supervisor::start_watched`], which puts a watchdog process in the app's group. The
//!   watchdog reads a socket whose other end only the supervising process holds: when that
//!   process ends, however it ends, the kernel closes its end, the watchdog reads the end of
//!   the stream and kills its group, itself included.
//!
//! The watchdog is not the supervising process's child, so that the app stays its only child:
//! a first stage, started in the app's group right after the app, starts the watchdog there
//! and exits. It needs no parent-death signal (`PR_SET_PDEATHSIG` is tied to the thread that
//! started a process, not to the process; and setting it in the app itself would take `unsafe`
//! code in `pre_exec`, which this workspace forbids, and would not reach the app's children).
//!
//! Processes that leave the group (`setsid`, `setpgid`) are out of reach of all this.

use std::ffi::{OsStr, OsString};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus};
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
/// The argument after [`Supervisor::WATCHDOG_ARG`] that runs the watchdog itself (without it,
/// the first stage, which starts the watchdog).
const WATCH_STAGE: &str = "watch";

struct Shared {
    stop: Notify,
    grace: Mutex<Option<Duration>>,
    restarts: AtomicU64,
    pid: Mutex<Option<u32>>,
    /// The process group of the app's current start, while it may hold processes.
    group: Mutex<Option<u32>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Supervises the app process.
///
/// Dropping it without [`shutdown`](Self::shutdown) kills the app's process group at once
/// (`SIGKILL`, no grace).
#[derive(Debug)]
pub struct Supervisor {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<Option<ExitStatus>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("pid", &*lock(&self.pid))
            .field("group", &*lock(&self.group))
            .field("restarts", &self.restarts.load(Ordering::Relaxed))
            .finish()
    }
}

/// Owns a process group: dropping it sends `SIGKILL` to every member, unless it was killed
/// already ([`kill`](Self::kill) disarms it, so that a group id freed and reused since is
/// never signalled).
#[derive(Debug)]
struct GroupOwner(Option<u32>);

impl GroupOwner {
    fn id(&self) -> Option<u32> {
        self.0
    }

    fn signal(&self, signal: Signal) {
        if let Some(group) = self.0 {
            signal_group(group, signal);
        }
    }

    /// `SIGKILL` to the group, once.
    fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        self.0 = None;
    }
}

impl Drop for GroupOwner {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The watchdog of one start of the app.
#[derive(Debug)]
struct Watchdog {
    /// This process's end of the socket the watchdog reads: when it closes (dropped, or this
    /// process gone), the watchdog kills the group.
    lifeline: UnixStream,
    /// The first stage, which starts the watchdog and exits; reaped before the app is
    /// reported ready, so that the app is then this process's only child from this start.
    starter: Option<Child>,
}

/// One start of the app: its process, the process group it runs in and, when watched, the
/// group's watchdog. Dropping it kills the group (the group owner is dropped first).
#[derive(Debug)]
struct App {
    group: GroupOwner,
    child: Child,
    watchdog: Option<Watchdog>,
}

impl App {
    /// Kills what is left of the group (the watchdog included), once the app itself is reaped.
    async fn end_group(&mut self) {
        let group = self.group.id();
        self.group.kill();
        let Some(mut watchdog) = self.watchdog.take() else {
            return;
        };
        // Reaped by now, or killed with the group: the wait is short (and the status kept).
        if let Some(mut starter) = watchdog.starter.take() {
            let _ = starter.wait().await;
        }
        drop(watchdog.lifeline);
        // The watchdog is re-parented when its first stage exits: to this process when it is
        // the namespace's init (pid 1 in a container; this process sets no subreaper), which
        // must then reap it (and the app's orphans). This process's own children in the group
        // (the app, the first stage) are reaped already, and what is left got SIGKILL: the
        // wait is short, and ends at once when no child of this process is left in the group.
        // A thread of its own (not tokio's blocking pool, which the runtime waits for when it
        // shuts down): nothing ever waits for it.
        let init = std::process::id() == 1;
        if let Some(group) = group.and_then(|g| i32::try_from(g).ok()).filter(|_| init) {
            let _ = std::thread::Builder::new()
                .name("app-group-reaper".into())
                .stack_size(64 * 1024)
                .spawn(
                    move || {
                        while nix::sys::wait::waitpid(Pid::from_raw(-group), None).is_ok() {}
                    },
                );
        }
    }
}

fn app_command(command: &[OsString]) -> Command {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Starts the app in a process group of its own, with a watchdog in it when `watchdog` names
/// the program to run as one (without, logged, when the watchdog cannot be started).
///
/// The app is started first (the watchdog's start is not on its way), and the watchdog's first
/// stage right after, before anything else happens here: should this process be killed in
/// between (a few microseconds), the app would not be watched.
fn launch(command: &[OsString], watchdog: Option<&Path>) -> std::io::Result<App> {
    let child = app_command(command).process_group(0).spawn()?;
    let group = GroupOwner(child.id());
    let watchdog = match (watchdog, group.id()) {
        (Some(program), Some(id)) => match start_watchdog(program, id) {
            Ok(watchdog) => Some(watchdog),
            Err(error) => {
                tracing::warn!(
                    watchdog = ?program,
                    error = %error,
                    "the app's watchdog cannot be started: the app may outlive a killed adapter"
                );
                None
            }
        },
        _ => None,
    };
    Ok(App {
        group,
        child,
        watchdog,
    })
}

/// Starts the watchdog's first stage in the app's process group `group`. The group exists
/// then: the app is not reaped yet (alive or not).
fn start_watchdog(program: &Path, group: u32) -> std::io::Result<Watchdog> {
    let group = i32::try_from(group).map_err(std::io::Error::other)?;
    let (lifeline, watched) = UnixStream::pair()?;
    let starter = Command::new(program)
        .arg(Supervisor::WATCHDOG_ARG)
        .process_group(group)
        .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(
            watched,
        )))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    Ok(Watchdog {
        lifeline,
        starter: Some(starter),
    })
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
    /// The first argument that makes a program run [`Supervisor::run_watchdog`] (the
    /// `lambda-adapter` binary does), as [`Supervisor::start_watched`] starts it.
    pub const WATCHDOG_ARG: &'static str = "--serverless-adapter-watchdog";

    /// Starts `command` (the program, then its arguments) and supervises it. The first start
    /// happens now, so that a command that cannot be run is an error right away; `gate` is
    /// closed while the app is not ready and opened by `check`, which gives up after
    /// `first_timeout` the first time (restarts wait as long as it takes).
    ///
    /// The app's process group is killed whenever the supervisor ends in this process; should
    /// the process itself die abruptly, use [`start_watched`](Self::start_watched).
    pub fn start(
        command: Vec<OsString>,
        check: ReadinessCheck,
        gate: ReadinessGate,
        first_timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        Self::start_with(None, command, check, gate, first_timeout)
    }

    /// As [`start`](Self::start), and each start of the app gets a watchdog: `watchdog` (a
    /// program whose `main` calls [`Supervisor::run_watchdog`] when its first argument is
    /// [`WATCHDOG_ARG`](Self::WATCHDOG_ARG), such as `lambda-adapter`), run in the app's
    /// process group, which kills the group when this process ends, however it ends (even by
    /// `SIGKILL`). The app is still this process's only child (once the gate opens). When the
    /// watchdog cannot be started the app runs without one (logged).
    pub fn start_watched(
        watchdog: impl Into<PathBuf>,
        command: Vec<OsString>,
        check: ReadinessCheck,
        gate: ReadinessGate,
        first_timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        Self::start_with(Some(watchdog.into()), command, check, gate, first_timeout)
    }

    fn start_with(
        watchdog: Option<PathBuf>,
        command: Vec<OsString>,
        check: ReadinessCheck,
        gate: ReadinessGate,
        first_timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        if command.is_empty() {
            return Err(Error::config("no command to run after `--`"));
        }
        let app = launch(&command, watchdog.as_deref()).map_err(|error| {
            Error::config(format!(
                "the app command {:?} cannot be started: {error}",
                command[0]
            ))
        })?;
        tracing::info!(command = ?command, pid = app.child.id(), "the app is started");
        gate.set_pending();
        gate.set_supervised(true);
        let shared = Arc::new(Shared {
            stop: Notify::new(),
            grace: Mutex::new(None),
            restarts: AtomicU64::new(0),
            pid: Mutex::new(app.child.id()),
            group: Mutex::new(app.group.id()),
        });
        let task = tokio::spawn(supervise(
            Launcher { command, watchdog },
            app,
            check,
            gate,
            first_timeout,
            shared.clone(),
        ));
        Ok(Self { shared, task })
    }

    /// The app's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        *lock(&self.shared.pid)
    }

    /// The id of the app's process group (the app's pid), while it runs.
    pub fn process_group(&self) -> Option<u32> {
        *lock(&self.shared.group)
    }

    /// How many times the app was restarted.
    pub fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// Stops the app: `SIGTERM` to its process group, then `SIGKILL` after `grace`. Returns
    /// how the app ended (`None` if it was not running).
    pub async fn shutdown(mut self, grace: Duration) -> Option<ExitStatus> {
        *lock(&self.shared.grace) = Some(grace);
        self.shared.stop.notify_one();
        (&mut self.task).await.ok().flatten()
    }

    /// The watchdog's `main`, for a program started by [`start_watched`](Self::start_watched)
    /// with [`WATCHDOG_ARG`](Self::WATCHDOG_ARG) as its first argument; `stage` is the argument
    /// after it.
    ///
    /// The first stage (no `stage`) starts the program again as the watchdog proper, in its
    /// own process group and with its standard input, and exits. The watchdog blocks every
    /// signal (only `SIGKILL` ends it otherwise), reads its standard input, a socket whose
    /// other end only the supervising process holds, until the end of the stream (that
    /// process is gone, or let the app go), and kills its process group, itself included.
    pub fn run_watchdog(stage: Option<&OsStr>) -> ExitCode {
        match stage.and_then(OsStr::to_str) {
            None => start_watch(),
            Some(WATCH_STAGE) => watch(),
            Some(other) => {
                eprintln!("{}: unknown stage {other:?}", Self::WATCHDOG_ARG);
                ExitCode::from(2)
            }
        }
    }
}

/// The watchdog's first stage: starts the watchdog (which is re-parented when this exits).
fn start_watch() -> ExitCode {
    use std::os::unix::process::CommandExt as _;
    // A signal the app sends its group now does not keep the watchdog from starting (the
    // watchdog starts with no signal blocked, and blocks them itself).
    let _ = nix::sys::signal::SigSet::all().thread_block();
    let started = std::env::current_exe().and_then(|program| {
        std::process::Command::new(program)
            .arg(Supervisor::WATCHDOG_ARG)
            .arg(WATCH_STAGE)
            .process_group(nix::unistd::getpgrp().as_raw())
            .stdin(std::process::Stdio::inherit())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    });
    match started {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("the app's watchdog cannot be started: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The watchdog (see [`Supervisor::run_watchdog`]): single-threaded, so the signal mask of its
/// thread is the process's.
fn watch() -> ExitCode {
    use std::io::Read as _;
    // Every signal but SIGKILL and SIGSTOP (which cannot be) is blocked: SIGTERM to the group
    // (the supervisor stopping the app) leaves it, and so does any signal the app sends it.
    let _ = nix::sys::signal::SigSet::all().thread_block();
    let mut lifeline = std::io::stdin().lock();
    let mut buffer = [0u8; 64];
    loop {
        match lifeline.read(&mut buffer) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            // Nothing to watch: the app is not left unwatched.
            Err(_) => break,
        }
    }
    let _ = killpg(nix::unistd::getpgrp(), Signal::SIGKILL);
    // Not reached: the watchdog is in its group.
    ExitCode::FAILURE
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // Not shut down (or dropped by an unwinding panic): the app goes at once. The task,
        // should it be starting the app again right now, is cancelled, and its start of the
        // app killed as it is dropped.
        if let Some(group) = lock(&self.shared.group).take() {
            signal_group(group, Signal::SIGKILL);
        }
        self.task.abort();
    }
}

/// Waits for the watchdog's first stage to exit (it starts the watchdog and exits at once).
async fn reap_starter(starter: Option<&mut Child>) {
    let Some(starter) = starter else {
        return;
    };
    match starter.wait().await {
        Ok(status) if status.success() => {}
        Ok(status) => tracing::warn!(
            status = %describe(&status),
            "the app's watchdog did not start: the app may outlive a killed adapter"
        ),
        Err(error) => tracing::warn!(error = %error, "the app's watchdog could not be waited for"),
    }
}

/// How the app is started again.
struct Launcher {
    command: Vec<OsString>,
    watchdog: Option<PathBuf>,
}

/// Fails the gate if the supervising task unwinds (a bug): invocations are then answered
/// `503` instead of waiting for an app that nobody starts. (The app's group is killed by the
/// [`App`] being dropped.)
struct PanicGuard(ReadinessGate);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.set_supervised(false);
            self.0
                .fail("the app's supervisor stopped unexpectedly (a bug: please report it)");
        }
    }
}

fn forget_app(shared: &Shared) {
    *lock(&shared.pid) = None;
    *lock(&shared.group) = None;
}

async fn supervise(
    launcher: Launcher,
    mut app: App,
    check: ReadinessCheck,
    gate: ReadinessGate,
    first_timeout: Option<Duration>,
    shared: Arc<Shared>,
) -> Option<ExitStatus> {
    let _guard = PanicGuard(gate.clone());
    let mut timeout = first_timeout;
    let mut quick_crashes: u32 = 0;
    loop {
        let started = Instant::now();
        let ended = {
            let App {
                child, watchdog, ..
            } = &mut app;
            // Reaped here, so that it is gone before the gate opens (and is not left to
            // tokio's reaping of dropped children: see `App::end_group`).
            let starter = watchdog.as_mut().and_then(|dog| dog.starter.as_mut());
            let gate = gate.clone();
            let check = check.clone();
            let readiness = async move {
                let (checked, ()) = tokio::join!(check.wait(timeout), reap_starter(starter));
                match checked {
                    Ok(_) => gate.set_ready(),
                    Err(error) => {
                        tracing::error!(error = error.message(), "the app did not become ready");
                        gate.fail(error.message().to_owned());
                    }
                }
                std::future::pending::<()>().await;
            };
            tokio::select! {
                status = child.wait() => Some(status),
                () = readiness => unreachable!("the readiness future never ends"),
                () = shared.stop.notified() => None,
            }
        };
        timeout = None;
        let Some(exited) = ended else {
            return stop(app, &shared).await;
        };
        gate.set_pending();
        forget_app(&shared);
        // Whatever the app left in its group goes with it (its watchdog too).
        app.end_group().await;
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
            match launch(&launcher.command, launcher.watchdog.as_deref()) {
                Ok(new_app) => {
                    app = new_app;
                    shared.restarts.fetch_add(1, Ordering::Relaxed);
                    *lock(&shared.pid) = app.child.id();
                    *lock(&shared.group) = app.group.id();
                    tracing::info!(pid = app.child.id(), "the app is started again");
                    break;
                }
                Err(error) => {
                    tracing::error!(error = %error, "the app cannot be started again; retrying");
                }
            }
        }
    }
}

async fn stop(mut app: App, shared: &Shared) -> Option<ExitStatus> {
    let grace = lock(&shared.grace).unwrap_or(Duration::ZERO);
    app.group.signal(Signal::SIGTERM);
    let status = match tokio::time::timeout(grace, app.child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "the app did not stop after SIGTERM; killing it"
            );
            app.group.signal(Signal::SIGKILL);
            app.child.wait().await.ok()
        }
    };
    // Anything the app started and left behind in its group (and the watchdog).
    app.end_group().await;
    forget_app(shared);
    if let Some(status) = &status {
        tracing::info!(status = %describe(status), "the app stopped");
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ProxySettings;

    /// A directory of its own under the temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            use std::sync::atomic::AtomicU32;
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "supervisor-{name}-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Processes killed when dropped (the test's own cleanup, should an assertion fail).
    struct Pids(Vec<u32>);

    impl Drop for Pids {
        fn drop(&mut self) {
            for &pid in &self.0 {
                if alive(pid) {
                    let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
                }
            }
        }
    }

    /// Running, or stopped: not gone from `/proc`, and not a zombie.
    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rfind(')')
                .and_then(|end| stat[end + 1..].split_whitespace().next())
                .is_some_and(|state| state != "Z"),
            Err(_) => false,
        }
    }

    fn gone_within(pid: u32, limit: Duration) -> bool {
        let start = Instant::now();
        while alive(pid) {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// `sh` (its group's leader) with a `sleep` child, each writing its pid to a file in
    /// `dir`; the pids once both are written.
    fn family(dir: &Path) -> (Vec<OsString>, impl Fn() -> Option<Vec<u32>>) {
        let script = "sleep 300 & echo $! > \"$1/child.tmp\" && mv \"$1/child.tmp\" \"$1/child\"; \
                      echo $$ > \"$1/app.tmp\" && mv \"$1/app.tmp\" \"$1/app\"; wait";
        let command = ["sh", "-c", script, "sh"]
            .into_iter()
            .map(OsString::from)
            .chain([dir.as_os_str().to_owned()])
            .collect();
        let dir = dir.to_owned();
        let pids = move || {
            ["app", "child"]
                .iter()
                .map(|name| {
                    std::fs::read_to_string(dir.join(name))
                        .ok()?
                        .trim()
                        .parse()
                        .ok()
                })
                .collect()
        };
        (command, pids)
    }

    fn wait_for<T>(limit: Duration, mut found: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(value) = found() {
                return value;
            }
            assert!(start.elapsed() < limit, "not there after {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn never_ready() -> (ReadinessCheck, ReadinessGate) {
        // Port 1 (tcpmux) is not served here: the check keeps failing, which is all it does.
        let settings = ProxySettings {
            port: 1,
            readiness_port: 1,
            ..ProxySettings::default()
        };
        (ReadinessCheck::new(&settings), ReadinessGate::pending())
    }

    const LIMIT: Duration = Duration::from_secs(10);

    #[test]
    fn dropping_the_group_owner_kills_every_member() {
        let dir = TempDir::new("owner");
        let (command, pids) = family(&dir.0);
        let mut leader = std::process::Command::new(&command[0]);
        leader.args(&command[1..]);
        std::os::unix::process::CommandExt::process_group(&mut leader, 0);
        let mut leader = leader.spawn().unwrap();
        let owner = GroupOwner(Some(leader.id()));
        let found = Pids(wait_for(LIMIT, pids));
        drop(owner);
        let _ = leader.wait();
        for &pid in &found.0 {
            assert!(gone_within(pid, LIMIT), "pid {pid} still runs");
        }
    }

    #[test]
    fn a_panic_unwinding_past_the_supervisor_kills_the_app_group() {
        let dir = TempDir::new("panic");
        let (command, pids) = family(&dir.0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let found = std::sync::Mutex::new(Pids(Vec::new()));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {
                let (check, gate) = never_ready();
                let _supervisor = Supervisor::start(command, check, gate, None).unwrap();
                let family = tokio::task::spawn_blocking(move || wait_for(LIMIT, pids))
                    .await
                    .unwrap();
                lock(&found).0 = family;
                panic!("a bug in the adapter");
            })
        }));
        assert!(unwound.is_err(), "the panic unwound");
        // The runtime still runs its tasks; the supervisor's drop did the killing.
        let found = found.into_inner().unwrap();
        assert_eq!(found.0.len(), 2);
        for &pid in &found.0 {
            assert!(gone_within(pid, LIMIT), "pid {pid} still runs");
        }
        drop(runtime);
    }

    #[test]
    fn a_runtime_shut_down_under_the_supervisor_kills_the_app_group() {
        let dir = TempDir::new("runtime");
        let (command, pids) = family(&dir.0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let supervisor = runtime.block_on(async {
            let (check, gate) = never_ready();
            Supervisor::start(command, check, gate, None).unwrap()
        });
        let found = Pids(wait_for(LIMIT, pids));
        // The supervisor outlives its runtime: the task's own start of the app is what is
        // dropped (and kills the group).
        std::mem::forget(supervisor);
        drop(runtime);
        for &pid in &found.0 {
            assert!(gone_within(pid, LIMIT), "pid {pid} still runs");
        }
    }
}
