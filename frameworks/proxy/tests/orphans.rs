//! No app outlives `lambda-adapter -- APP` (supervisor mode), however the adapter ends: an init
//! error (readiness timeout, a bad setting), SIGTERM or SIGINT, SIGKILL, or a panic.
//!
//! Each case runs the real binary against the emulator's Runtime API (the emulator manages no
//! process here, so that nothing but the adapter can stop the app), supervising a Python app
//! that writes its pid to a file and starts a grandchild (in its process group, ignoring
//! SIGTERM) that it names in another file. "Gone" means: no such process, or a zombie; and no
//! live process left in the app's process group. Every wait is bounded; nothing is timed.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serverless_adapter_emulator::Emulator;
use serverless_adapter_proxy::{ProxySettings, ReadinessCheck, ReadinessGate, Supervisor};
use support::{free_port, ChildGuard};

/// A generous bound for steps that wait on the app or the adapter: a liveness limit.
const LIMIT: Duration = Duration::from_secs(60);
/// How long what the adapter started may take to be gone once it should be.
const GONE: Duration = Duration::from_secs(5);

/// The app: `GET /status/503` answers 503, anything else 200, on `$PORT` (or `argv[2]`).
/// Before it listens it starts a grandchild that ignores SIGTERM and writes `child.pid`, then
/// `app.pid` (each written whole: renamed into place). Both command lines name the directory
/// (`argv[1]`).
const APP: &str = r#"
import http.server, os, subprocess, sys
d = sys.argv[1]
def put(name, pid):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(str(pid))
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(60)",
    d])
put("child.pid", child.pid)
put("app.pid", os.getpid())
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 503 if self.path.startswith("/status/503") else 200
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
port = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ["PORT"])
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"#;

/// The Python interpreter itself (not a version manager's shim in front of it).
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "python3 runs");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "orphans-{name}-{}-{}",
            std::process::id(),
            free_port()
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

/// The state letter and process group of `pid`, from `/proc/<pid>/stat` (`None`: no such
/// process). The command name may hold spaces and parentheses: fields are read after the
/// last `)`.
fn stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some((state, group))
}

/// Running (or stopped): neither gone nor a zombie.
fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != 'Z')
}

/// The live members of process group `group`.
fn members(group: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|(state, g)| g == group && state != 'Z'))
        .collect()
}

/// The children of `pid` (of all its threads).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .flat_map(|task| {
            std::fs::read_to_string(task.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|child| child.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
        .unwrap_or_default()
}

/// What the adapter started: the app, its grandchild, and their process group.
#[derive(Debug)]
struct Started {
    app: u32,
    child: u32,
    group: u32,
}

/// Kills, when dropped, whatever of a test's processes still runs (so that a failing test
/// leaves nothing behind): the app's group members that are the test's own (their command line
/// names the test's directory, or is the adapter's watchdog).
struct Leftovers {
    marker: String,
    started: Option<Started>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let Some(started) = &self.started else {
            return;
        };
        let mut pids = members(started.group);
        pids.extend([started.app, started.child]);
        for pid in pids {
            let line = cmdline(pid);
            if alive(pid)
                && (line.contains(&self.marker) || line.contains(Supervisor::WATCHDOG_ARG))
            {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
        }
    }
}

/// Waits until the watchdog runs in `group` (it is started as the app is), unless the group is
/// gone already.
async fn assert_watched(group: u32) {
    let start = Instant::now();
    loop {
        let live = members(group);
        if live.is_empty()
            || live
                .iter()
                .any(|&pid| cmdline(pid).contains(Supervisor::WATCHDOG_ARG))
        {
            return;
        }
        assert!(
            start.elapsed() < LIMIT,
            "no watchdog in the app's group: {:?}",
            live.into_iter()
                .map(|pid| (pid, cmdline(pid)))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `lambda-adapter -- python3 app.py DIR` polling the emulator's Runtime API.
struct Function {
    // Dropped first: the adapter (its group and descendants), then the leftovers.
    adapter: ChildGuard,
    leftovers: Leftovers,
    emulator: Emulator,
    dir: TempDir,
}

impl Function {
    async fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let dir = TempDir::new(name);
        let script = dir.0.join("app.py");
        std::fs::write(&script, APP).unwrap();
        // Its own ports are bound on 127.0.0.1 by the emulator (port 0: taken atomically, where
        // a port picked beforehand could be taken by another process before it is bound).
        let emulator = Emulator::builder()
            .quiet(true)
            .start()
            .await
            .expect("the emulator starts");
        let port = free_port().to_string();
        // The adapter's output (and the app's), for the failure messages.
        let log = std::fs::File::create(dir.0.join("adapter.log")).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-adapter"));
        command
            .arg("--")
            .arg(python())
            .arg(&script)
            .arg(&dir.0)
            .envs(emulator.lambda_env())
            .env("AWS_LWA_PORT", &port)
            .env("PORT", &port)
            .env("AWS_LWA_INVOKE_MODE", "buffered")
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        let adapter = ChildGuard::spawn(command);
        Self {
            adapter,
            leftovers: Leftovers {
                marker: dir.0.to_string_lossy().into_owned(),
                started: None,
            },
            emulator,
            dir,
        }
    }

    /// Waits until the app and its grandchild are running, and notes them.
    async fn started(&mut self) -> &Started {
        let start = Instant::now();
        let read = |name: &str| -> Option<u32> {
            std::fs::read_to_string(self.dir.0.join(name))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        let (app, child) = loop {
            if let (Some(app), Some(child)) = (read("app.pid"), read("child.pid")) {
                break (app, child);
            }
            assert!(start.elapsed() < LIMIT, "the app did not start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        // The app leads its group. (With a readiness timeout it may be stopped already: what
        // runs still is checked.)
        let group = app;
        for pid in [app, child] {
            if let Some((state, in_group)) = stat(pid).filter(|(state, _)| *state != 'Z') {
                assert_eq!(in_group, group, "{pid} ({state}) is in the app's group");
            }
        }
        assert_ne!(
            stat(self.adapter.id()).map(|(_, g)| g),
            Some(group),
            "the app's group is not the adapter's"
        );
        assert_watched(group).await;
        self.leftovers.started.insert(Started { app, child, group })
    }

    /// What the adapter logged.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("adapter.log")).unwrap_or_default()
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.adapter.id() as i32), signal).unwrap();
    }

    async fn exits(&mut self) -> std::process::ExitStatus {
        match self.adapter.exited_within(LIMIT).await {
            Some(status) => status,
            None => panic!("the adapter did not exit; its log:\n{}", self.log()),
        }
    }

    /// Asserts that the app, its grandchild and every other member of their group are gone
    /// within [`GONE`].
    async fn all_gone(&self) {
        let started = self
            .leftovers
            .started
            .as_ref()
            .expect("the app was seen started");
        let start = Instant::now();
        loop {
            let mut left: Vec<(u32, String)> = members(started.group)
                .into_iter()
                .chain([started.app, started.child])
                .filter(|&pid| alive(pid))
                .map(|pid| (pid, cmdline(pid)))
                .collect();
            left.dedup();
            if left.is_empty() {
                return;
            }
            assert!(
                start.elapsed() < GONE,
                "still running after {GONE:?}: {left:?} (started: {started:?}); the adapter's \
                 log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

// (a) init errors

#[tokio::test]
async fn a_readiness_timeout_leaves_no_app_behind() {
    let mut function = Function::start(
        "timeout",
        &[
            ("AWS_LWA_READINESS_CHECK_PATH", "/status/503"),
            ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    // Queued now: it fails with the init error once the adapter reports it.
    let invocation = function.emulator.invoke_stream("{}").unwrap();
    function.started().await;
    let invocation = tokio::time::timeout(LIMIT, invocation.collect())
        .await
        .expect("the init error is reported");
    let error = invocation.error().expect("the init fails");
    assert_eq!(error.error_type, "Runtime.InvalidConfig", "{error:?}");
    assert!(!function.exits().await.success(), "the adapter fails");
    function.all_gone().await;
}

#[tokio::test]
async fn a_readiness_timeout_then_sigterm_at_once_leaves_no_app_behind() {
    // As Lambda (and the emulator managing the function) does: the adapter is told to stop
    // the moment it reports the init error.
    let unused = free_port().to_string();
    let mut function = Function::start(
        "timeout-term",
        &[
            ("AWS_LWA_READINESS_CHECK_PORT", &unused),
            ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let invocation = function.emulator.invoke_stream("{}").unwrap();
    function.started().await;
    let invocation = tokio::time::timeout(LIMIT, invocation.collect())
        .await
        .expect("the init error is reported");
    function.signal(Signal::SIGTERM);
    let error = invocation.error().expect("the init fails");
    assert!(
        error.error_message.contains(&format!(":{unused}")),
        "{error:?}"
    );
    function.exits().await;
    function.all_gone().await;
}

#[tokio::test]
async fn a_readiness_timeout_then_sigkill_at_once_leaves_no_app_behind() {
    let mut function = Function::start(
        "timeout-kill",
        &[
            ("AWS_LWA_READINESS_CHECK_PATH", "/status/503"),
            ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let invocation = function.emulator.invoke_stream("{}").unwrap();
    function.started().await;
    let invocation = tokio::time::timeout(LIMIT, invocation.collect())
        .await
        .expect("the init error is reported");
    function.signal(Signal::SIGKILL);
    assert!(invocation.error().is_some(), "the init fails");
    function.exits().await;
    function.all_gone().await;
}

#[tokio::test]
async fn a_bad_setting_fails_the_init_before_the_app_starts() {
    let mut function = Function::start(
        "bad-setting",
        &[("SERVERLESS_ADAPTER_ADAPTERS", "no-such-adapter")],
    )
    .await;
    let invocation = function.emulator.invoke_stream("{}").unwrap();
    let invocation = tokio::time::timeout(LIMIT, invocation.collect())
        .await
        .expect("the init error is reported");
    assert!(invocation.error().is_some(), "the init fails");
    assert!(!function.exits().await.success(), "the adapter fails");
    // The adapter is gone; had it started the app, the app would have written its pid before
    // listening (or be gone with the adapter).
    assert!(
        !function.dir.0.join("app.pid").exists() && !function.dir.0.join("child.pid").exists(),
        "the app was not started"
    );
}

// (b) SIGTERM, SIGINT

#[tokio::test]
async fn sigterm_or_sigint_to_a_ready_adapter_stops_the_app_group() {
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let mut function = Function::start("stop", &[]).await;
        function.started().await;
        tokio::time::timeout(LIMIT, function.emulator.wait_ready(LIMIT))
            .await
            .unwrap()
            .expect("the function becomes ready");
        function.signal(signal);
        assert!(function.exits().await.success(), "{signal}: a clean stop");
        function.all_gone().await;
    }
}

#[tokio::test]
async fn sigterm_during_the_init_stops_the_app_group() {
    // Never ready, no timeout: the adapter waits for the app until told to stop.
    let mut function = Function::start(
        "stop-init",
        &[("AWS_LWA_READINESS_CHECK_PATH", "/status/503")],
    )
    .await;
    function.started().await;
    function.signal(Signal::SIGTERM);
    function.exits().await;
    function.all_gone().await;
}

// (c) SIGKILL

#[tokio::test]
async fn sigkill_to_a_ready_adapter_ends_the_app_group() {
    let mut function = Function::start("kill", &[]).await;
    function.started().await;
    tokio::time::timeout(LIMIT, function.emulator.wait_ready(LIMIT))
        .await
        .unwrap()
        .expect("the function becomes ready");
    // The watchdog is no child of the adapter's: the app is its only one.
    let app = function.leftovers.started.as_ref().unwrap().app;
    assert_eq!(
        children(function.adapter.id()),
        [app],
        "the app is the adapter's only child"
    );
    function.signal(Signal::SIGKILL);
    function.exits().await;
    function.all_gone().await;
}

#[tokio::test]
async fn sigkill_during_the_init_ends_the_app_group() {
    let mut function = Function::start(
        "kill-init",
        &[("AWS_LWA_READINESS_CHECK_PATH", "/status/503")],
    )
    .await;
    function.started().await;
    function.signal(Signal::SIGKILL);
    function.exits().await;
    function.all_gone().await;
}

// (d) a panic: the binary has no way to be made to panic, so the library is used in this
// process, with the binary as the watchdog, and a panic unwinds past the supervisor.

#[test]
fn a_panic_past_a_watched_supervisor_ends_the_app_group() {
    let dir = TempDir::new("panic");
    let script = dir.0.join("app.py");
    std::fs::write(&script, APP).unwrap();
    let port = free_port();
    let mut settings = ProxySettings::default();
    settings.port = port;
    settings.readiness_port = port;
    settings.readiness_path = "/status/503".into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut leftovers = Leftovers {
        marker: dir.0.to_string_lossy().into_owned(),
        started: None,
    };
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let supervisor = Supervisor::start_watched(
                env!("CARGO_BIN_EXE_lambda-adapter"),
                vec![
                    python().into(),
                    script.clone().into(),
                    dir.0.clone().into(),
                    port.to_string().into(),
                ],
                ReadinessCheck::new(&settings),
                ReadinessGate::pending(),
                None,
            )
            .expect("the app starts");
            let start = Instant::now();
            let read = |name: &str| -> Option<u32> {
                std::fs::read_to_string(dir.0.join(name))
                    .ok()?
                    .trim()
                    .parse()
                    .ok()
            };
            while read("app.pid").is_none() || read("child.pid").is_none() {
                assert!(start.elapsed() < LIMIT, "the app did not start");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let (app, child) = (read("app.pid").unwrap(), read("child.pid").unwrap());
            leftovers.started = Some(Started {
                app,
                child,
                group: supervisor.process_group().expect("the app runs"),
            });
            assert_eq!(supervisor.pid(), Some(app));
            let group = supervisor.process_group().expect("the app runs");
            assert_eq!(group, app, "the app leads its group");
            assert_watched(group).await;
            panic!("a bug in the adapter");
        })
    }));
    assert!(unwound.is_err(), "the panic unwound");
    let started = leftovers
        .started
        .as_ref()
        .expect("the app was seen started");
    let start = Instant::now();
    loop {
        let mut left = members(started.group);
        left.extend(
            [started.app, started.child]
                .into_iter()
                .filter(|&p| alive(p)),
        );
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < GONE,
            "still running after {GONE:?}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(runtime);
}
