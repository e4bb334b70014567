//! Starting, watching and stopping the function's processes (the "sandbox").

use std::ffi::OsString;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep_until;

use crate::answer::FunctionError;
use crate::config::CommandSpec;
use crate::core::{lock, Control, Core};
use crate::util::{epoch_ms, hex, Utc};

/// The environment Lambda gives a function (and its extensions).
pub(crate) fn lambda_env(core: &Core) -> Vec<(String, String)> {
    let cfg = &core.cfg;
    let task_root = cfg
        .task_root
        .clone()
        .or_else(|| cfg.command.as_ref().and_then(|c| c.cwd.clone()))
        .or_else(|| std::env::current_dir().ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/var/task".into());
    let runtime_dir = cfg
        .command
        .as_ref()
        .and_then(|c| {
            std::path::Path::new(&c.program)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| task_root.clone());
    let handler = cfg
        .handler
        .clone()
        .or_else(|| cfg.command.as_ref().map(CommandSpec::file_name))
        .unwrap_or_else(|| "bootstrap".into());
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API".to_owned(), runtime_api_for(core)),
        (
            "AWS_LAMBDA_FUNCTION_NAME".to_owned(),
            cfg.function_name.clone(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
            cfg.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_VERSION".to_owned(),
            "$LATEST".to_owned(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
            format!("/aws/lambda/{}", cfg.function_name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME".to_owned(),
            format!("{}/[$LATEST]{}", Utc::now().ymd_slashes(), hex(32)),
        ),
        ("AWS_REGION".to_owned(), cfg.region.clone()),
        ("AWS_DEFAULT_REGION".to_owned(), cfg.region.clone()),
        (
            "AWS_EXECUTION_ENV".to_owned(),
            "AWS_Lambda_provided.al2023".to_owned(),
        ),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE".to_owned(),
            "on-demand".to_owned(),
        ),
        ("LAMBDA_TASK_ROOT".to_owned(), task_root),
        ("LAMBDA_RUNTIME_DIR".to_owned(), runtime_dir),
        ("_HANDLER".to_owned(), handler),
        ("TZ".to_owned(), ":UTC".to_owned()),
    ];
    if cfg.max_concurrency > 1 {
        env.push((
            "AWS_LAMBDA_MAX_CONCURRENCY".to_owned(),
            cfg.max_concurrency.to_string(),
        ));
    }
    env
}

#[derive(Debug)]
struct Proc {
    name: String,
    runtime: bool,
    pgid: i32,
    alive: bool,
}

#[derive(Debug)]
struct Sandbox {
    generation: u64,
    procs: Vec<Proc>,
    exits: mpsc::UnboundedReceiver<(usize, std::io::Result<ExitStatus>)>,
    exits_tx: mpsc::UnboundedSender<(usize, std::io::Result<ExitStatus>)>,
}

impl Sandbox {
    fn spawn(
        &mut self,
        core: &Core,
        spec: &CommandSpec,
        runtime: bool,
        env: &[(String, String)],
    ) -> std::io::Result<()> {
        let (program, args): (OsString, Vec<OsString>) = match core
            .cfg
            .env_value("AWS_LAMBDA_EXEC_WRAPPER")
            .filter(|w| runtime && !w.is_empty())
        {
            Some(wrapper) => {
                let mut args = vec![spec.program.clone()];
                args.extend(spec.args.iter().cloned());
                (wrapper.into(), args)
            }
            None => (spec.program.clone(), spec.args.clone()),
        };
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        for (k, v) in &spec.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        for (k, v) in &core.cfg.env {
            cmd.env(k, v);
        }
        cmd.env("AWS_LAMBDA_RUNTIME_API", runtime_api_for(core));
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        cmd.stdin(Stdio::null());
        if core.cfg.quiet {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        cmd.process_group(0);
        cmd.kill_on_drop(true);
        // A script written just before (a bootstrap, an exec wrapper) can be briefly "busy"
        // while another thread's fork still holds it open for writing: retry that, shortly
        // (rare and short, so a blocking pause).
        let mut attempt = 0;
        let mut child = loop {
            match cmd.spawn() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                result => {
                    break result.map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!("cannot start {}: {e}", program.to_string_lossy()),
                        )
                    })?
                }
            }
        };
        let pid = child.id().unwrap_or(0) as i32;
        let name = spec.file_name();
        tracing::info!(pid, runtime, "started {name}");
        lock(&core.pgids).push(pid);
        if runtime {
            *lock(&core.runtime_pid) = Some(pid as u32);
        }
        let idx = self.procs.len();
        self.procs.push(Proc {
            name,
            runtime,
            pgid: pid,
            alive: true,
        });
        let tx = self.exits_tx.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let _ = tx.send((idx, status));
        });
        Ok(())
    }

    /// Every process of the sandbox that is still running: the members of each process group
    /// the emulator started, and all their descendants, including those that moved to a
    /// process group of their own (an app started by a supervising adapter).
    fn tree(&self) -> Vec<i32> {
        let pgids: Vec<i32> = self
            .procs
            .iter()
            .map(|p| p.pgid)
            .filter(|&g| g > 0)
            .collect();
        process_tree(&pgids)
    }

    fn signal_all(&self, signal: Signal, filter: impl Fn(&Proc) -> bool) {
        for p in self.procs.iter().filter(|p| filter(p)) {
            if p.pgid > 0 {
                let _ = killpg(Pid::from_raw(p.pgid), signal);
            }
        }
    }

    async fn wait_exits(&mut self, until: Instant) {
        while self.procs.iter().any(|p| p.alive) {
            tokio::select! {
                exit = self.exits.recv() => match exit {
                    Some((idx, _)) => self.procs[idx].alive = false,
                    None => break,
                },
                _ = sleep_until(until.into()) => break,
            }
        }
    }
}

enum Ended {
    Exited(usize, String),
    InitFailed,
    InitTimeout,
    Reset(&'static str),
    Shutdown(Option<oneshot::Sender<()>>),
}

/// Runs the sandbox: starts it at once, restarts it on demand after a failure (a new init,
/// as Lambda does), and stops it on shutdown.
pub(crate) async fn supervise(core: Arc<Core>, mut control: mpsc::UnboundedReceiver<Control>) {
    if core.cfg.command.is_none() && core.cfg.extensions.is_empty() {
        // The function runs elsewhere (e.g. in the test process): nothing to manage.
        while let Some(msg) = control.recv().await {
            if let Control::Shutdown(ack) = msg {
                shutdown_in_process_extensions(&core).await;
                let _ = ack.send(());
                return;
            }
        }
        return;
    }
    let mut start_now = true;
    loop {
        if !start_now {
            // Lambda re-initializes on the next invocation.
            loop {
                let notified = core.submitted.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if core.has_queued() {
                    break;
                }
                tokio::select! {
                    _ = notified => {}
                    msg = control.recv() => match msg {
                        Some(Control::Shutdown(ack)) => { let _ = ack.send(()); return; }
                        None => return,
                        Some(_) => {}
                    }
                }
            }
        }
        start_now = false;
        let generation = core.generation();
        let (exits_tx, exits) = mpsc::unbounded_channel();
        let mut sb = Sandbox {
            generation,
            procs: Vec::new(),
            exits,
            exits_tx,
        };
        core.inits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let started = Instant::now();
        let init_deadline = started + core.cfg.init_timeout;
        core.open_sandbox();
        if let Err(e) = start(&core, &mut sb, init_deadline).await {
            tracing::error!("{e}");
            let error = FunctionError::new("Runtime.InvalidEntrypoint", e.to_string());
            core.fail_queued(&error);
            core.close_sandbox();
            core.new_generation();
            teardown(&core, &mut sb, "failure").await;
            continue;
        }
        let ended = watch(&core, &mut sb, &mut control, init_deadline).await;
        let initialized = core.init_done(generation);
        core.close_sandbox();
        core.new_generation();
        match ended {
            Ended::Exited(idx, status) => {
                let p = &sb.procs[idx];
                let (error_type, what) = if p.runtime {
                    ("Runtime.ExitError", "Runtime exited".to_owned())
                } else {
                    ("Extension.Crash", format!("Extension {} exited", p.name))
                };
                tracing::warn!("{} ({}) exited: {status}", p.name, p.pgid);
                if initialized {
                    core.fail_delivered(generation, |id| {
                        FunctionError::new(
                            error_type,
                            format!("RequestId: {id} Error: {what} with error: {status}"),
                        )
                    });
                } else {
                    let error = core.take_init_error().unwrap_or_else(|| {
                        FunctionError::new(
                            error_type,
                            format!("Error: {what} with error: {status}"),
                        )
                    });
                    core.fail_queued(&error);
                    core.fail_delivered(generation, |_| error.clone());
                }
                teardown(&core, &mut sb, "failure").await;
            }
            Ended::InitFailed => {
                let error = core.take_init_error().unwrap_or_else(|| {
                    FunctionError::new("Runtime.InitError", "the function failed to initialize")
                });
                core.fail_queued(&error);
                core.fail_delivered(generation, |_| error.clone());
                teardown(&core, &mut sb, "failure").await;
            }
            Ended::InitTimeout => {
                let error = FunctionError::new(
                    "Sandbox.Timedout",
                    format!(
                        "INIT phase timed out after {:.2} seconds",
                        core.cfg.init_timeout.as_secs_f64()
                    ),
                );
                tracing::warn!("{error}");
                core.fail_queued(&error);
                teardown(&core, &mut sb, "timeout").await;
            }
            Ended::Reset(reason) => {
                core.fail_delivered(generation, |id| {
                    FunctionError::new(
                        "Runtime.ExitError",
                        format!("RequestId: {id} Error: the sandbox was reset ({reason})"),
                    )
                });
                teardown(&core, &mut sb, reason).await;
            }
            Ended::Shutdown(ack) => {
                teardown(&core, &mut sb, "spindown").await;
                if let Some(ack) = ack {
                    let _ = ack.send(());
                }
                return;
            }
        }
    }
}

/// Starts the extensions, waits for them to register, then starts the runtime.
async fn start(core: &Core, sb: &mut Sandbox, init_deadline: Instant) -> std::io::Result<()> {
    let env = lambda_env(core);
    let before = core.extension_count();
    for ext in &core.cfg.extensions {
        sb.spawn(core, ext, false, &env)?;
    }
    let wanted = before + core.cfg.extensions.len();
    while core.extension_count() < wanted {
        let notified = core.ext_registered.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if core.extension_count() >= wanted {
            break;
        }
        tokio::select! {
            _ = notified => {}
            exit = sb.exits.recv() => {
                if let Some((idx, status)) = exit {
                    sb.procs[idx].alive = false;
                    return Err(std::io::Error::other(format!(
                        "extension {} exited during init: {}",
                        sb.procs[idx].name,
                        status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
                    )));
                }
            }
            _ = sleep_until(init_deadline.into()) => {
                tracing::warn!("not every extension registered in time; starting the runtime anyway");
                break;
            }
        }
    }
    if let Some(cmd) = &core.cfg.command {
        sb.spawn(core, cmd, true, &env)?;
    }
    Ok(())
}

async fn watch(
    core: &Core,
    sb: &mut Sandbox,
    control: &mut mpsc::UnboundedReceiver<Control>,
    init_deadline: Instant,
) -> Ended {
    loop {
        let init_pending = !core.init_done(sb.generation);
        tokio::select! {
            exit = sb.exits.recv() => {
                if let Some((idx, status)) = exit {
                    sb.procs[idx].alive = false;
                    let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    return Ended::Exited(idx, status);
                }
            }
            msg = control.recv() => match msg {
                Some(Control::Reset { generation, reason }) if generation == sb.generation => {
                    return Ended::Reset(reason)
                }
                Some(Control::InitError { generation }) if generation == sb.generation => {
                    return Ended::InitFailed
                }
                Some(Control::Shutdown(ack)) => return Ended::Shutdown(Some(ack)),
                None => return Ended::Shutdown(None),
                Some(_) => {}
            },
            _ = sleep_until(init_deadline.into()), if init_pending => {
                if !core.init_done(sb.generation) {
                    return Ended::InitTimeout;
                }
            }
        }
    }
}

/// Stops every process of the sandbox: SHUTDOWN to the extensions that asked for it,
/// SIGTERM to the rest, SIGKILL to every process group after the grace period.
async fn teardown(core: &Core, sb: &mut Sandbox, reason: &str) {
    let grace = core.cfg.shutdown_grace;
    let until = Instant::now() + grace;
    let notified = core.extension_shutdown_event(reason, epoch_ms() + grace.as_millis() as u64);
    let notified_names: Vec<String> = notified.iter().map(|e| e.name.clone()).collect();
    // Extensions that will hear SHUTDOWN get to stop by themselves; the rest get SIGTERM.
    sb.signal_all(Signal::SIGTERM, |p| {
        p.alive && (p.runtime || !notified_names.contains(&p.name))
    });
    // Lambda ends the whole sandbox: remember every descendant now, while their parents still
    // link them to the sandbox, so none survives as an orphan.
    let mut tree = sb.tree();
    sb.wait_exits(until).await;
    tracing::debug!("teardown: processes ended or grace period over");
    tree.extend(sb.tree());
    kill_pids(&tree);
    sb.signal_all(Signal::SIGKILL, |_| true);
    sb.wait_exits(Instant::now() + Duration::from_secs(2)).await;
    core.clear_extensions();
    let pgids: Vec<i32> = sb.procs.iter().map(|p| p.pgid).collect();
    lock(&core.pgids).retain(|p| !pgids.contains(p));
    *lock(&core.runtime_pid) = None;
    sb.procs.clear();
}

/// Without processes to manage: SHUTDOWN to in-process extensions, and a bounded wait for
/// them to take it.
async fn shutdown_in_process_extensions(core: &Core) {
    let grace = core.cfg.shutdown_grace;
    let exts = core.extension_shutdown_event("spindown", epoch_ms() + grace.as_millis() as u64);
    let until = Instant::now() + grace;
    while Instant::now() < until && exts.iter().any(|e| !e.drained()) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    core.clear_extensions();
}

/// Best-effort synchronous kill of every process group (for `Drop`).
pub(crate) fn kill_all(core: &Core) {
    let pgids: Vec<i32> = lock(&core.pgids).clone();
    kill_pids(&process_tree(&pgids));
    for pgid in lock(&core.pgids).drain(..) {
        if pgid > 0 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

/// SIGKILL to each pid (best effort: a process may already be gone).
fn kill_pids(pids: &[i32]) {
    for &pid in pids {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// The running processes in the process groups `pgids` and all their descendants, read from
/// `/proc` (empty where `/proc` is not available).
fn process_tree(pgids: &[i32]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    // (pid, ppid, pgid) of every process.
    let table: Vec<(i32, i32, i32)> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(&stat).map(|(ppid, pgid)| (pid, ppid, pgid))
        })
        .collect();
    let mut found: Vec<i32> = table
        .iter()
        .filter(|(_, _, pgid)| pgids.contains(pgid))
        .map(|&(pid, _, _)| pid)
        .collect();
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        for &(pid, ppid, _) in &table {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        next += 1;
    }
    found
}

/// The parent pid and process group of a `/proc/<pid>/stat` line (`pid (comm) state ppid pgrp
/// ...`; the command name may hold spaces and parentheses, so fields are read after the last `)`).
fn parse_stat(stat: &str) -> Option<(i32, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    Some((ppid, pgid))
}

/// The Runtime API address the function's processes are told.
fn runtime_api_for(core: &Core) -> String {
    core.cfg
        .advertised_runtime_api
        .clone()
        .unwrap_or_else(|| core.runtime_addr.to_string())
}

#[cfg(test)]
mod tree_tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        assert_eq!(parse_stat("42 (a) b) c) S 7 9 9 0"), Some((7, 9)));
        assert_eq!(parse_stat("42 (sh) R 1 42 42"), Some((1, 42)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn the_tree_holds_descendants_in_other_process_groups() {
        // sh (own group) starts a child in a new session: a different process group.
        let mut parent = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = parent.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(10);
        let tree = loop {
            let tree = process_tree(&[pgid]);
            if tree.len() >= 2 || Instant::now() > deadline {
                break tree;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        kill_pids(&tree);
        let _ = parent.wait();
        assert!(tree.contains(&pgid), "{tree:?}");
        assert!(tree.len() >= 2, "the detached child is found: {tree:?}");
        let orphan = tree.iter().copied().find(|&pid| pid != pgid).unwrap();
        // Killed: /proc/<pid> is gone or a zombie, shortly.
        let gone = (0..500).any(|_| {
            let alive = std::fs::read_to_string(format!("/proc/{orphan}/stat"))
                .map(|s| !s.contains(") Z"))
                .unwrap_or(false);
            if alive {
                std::thread::sleep(Duration::from_millis(10));
            }
            !alive
        });
        assert!(gone, "pid {orphan} still runs");
    }
}
