//! The contestants' processes: start, peak RSS, stop; ports; binary sizes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BoxError;

/// The processes of one contestant, killed (with their process groups) on drop.
#[derive(Default)]
pub(crate) struct Processes {
    children: Vec<(String, Child)>,
}

impl Processes {
    /// Starts `bin` with `env` added. The bench pinned itself to core 0 before starting any
    /// thread, so the child inherits the pinning (no `taskset` in between: it would add an
    /// exec to every cold start). Returns when `spawn` returned.
    pub(crate) fn spawn(
        &mut self,
        label: &str,
        bin: &Path,
        env: &[(&str, String)],
    ) -> Result<u32, BoxError> {
        self.spawn_with(label, bin, env, false).map(|(pid, _)| pid)
    }

    /// Like [`spawn`](Self::spawn), optionally with stderr piped to the caller.
    pub(crate) fn spawn_with(
        &mut self,
        label: &str,
        bin: &Path,
        env: &[(&str, String)],
        pipe_stderr: bool,
    ) -> Result<(u32, Option<ChildStderr>), BoxError> {
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new(bin)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if pipe_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stderr = child.stderr.take();
        self.children.push((label.to_owned(), child));
        Ok((pid, stderr))
    }

    /// Peak RSS (VmHWM) of each process since start or the last [`reset_peaks`](Self::reset_peaks), in KiB.
    pub(crate) fn peak_rss(&self) -> Vec<(String, u64)> {
        self.children
            .iter()
            .map(|(label, child)| (label.clone(), vm_hwm(child.id()).unwrap_or(0)))
            .collect()
    }

    /// CPU time (user + system, ns) each process's live threads have used so far
    /// (`/proc/PID/task/*/schedstat`).
    pub(crate) fn cpu_ns(&self) -> Vec<(String, u64)> {
        self.children
            .iter()
            .map(|(label, child)| (label.clone(), cpu_ns(child.id()).unwrap_or(0)))
            .collect()
    }

    /// Resets each process's peak RSS to its current RSS (`/proc/PID/clear_refs`, value 5).
    pub(crate) fn reset_peaks(&self) {
        for (_, child) in &self.children {
            let _ = std::fs::write(format!("/proc/{}/clear_refs", child.id()), "5");
        }
    }

    /// Whether every process still runs (a crashed contestant fails its workloads).
    pub(crate) fn exited(&mut self) -> Option<String> {
        self.children
            .iter_mut()
            .find_map(|(label, child)| match child.try_wait() {
                Ok(Some(status)) => Some(format!("{label} exited: {status}")),
                _ => None,
            })
    }

    /// Kills every process group and reaps the processes.
    pub(crate) fn kill_all(&mut self) {
        for (_, child) in &mut self.children {
            // Each child leads its own process group: kill the group (the app a supervisor
            // started included), then reap.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.filter_map(Result::ok) {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(total)
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A port of 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, BoxError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until something accepts connections on `port` (10 s at most).
pub(crate) async fn wait_for_port(port: u16) -> Result<(), BoxError> {
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("nothing listens on port {port} after 10 s").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Size of a binary as built, and stripped of symbols and debug info (`strip` on a copy).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BinarySize {
    /// Bytes on disk.
    pub(crate) file: u64,
    /// Bytes after `strip`, if `strip` ran.
    pub(crate) stripped: Option<u64>,
}

/// Binary sizes, measured once per path.
#[derive(Default)]
pub(crate) struct Sizes(HashMap<PathBuf, Option<BinarySize>>);

impl Sizes {
    /// The size of `bin`, or `None` if it does not exist.
    pub(crate) fn of(&mut self, bin: &Path) -> Option<BinarySize> {
        *self
            .0
            .entry(bin.to_path_buf())
            .or_insert_with(|| measure_size(bin))
    }
}

fn measure_size(bin: &Path) -> Option<BinarySize> {
    let file = std::fs::metadata(bin).ok()?.len();
    let copy = std::env::temp_dir().join(format!(
        "serverless-adapter-bench-strip-{}-{}",
        std::process::id(),
        bin.file_name()?.to_string_lossy()
    ));
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(bin)
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| std::fs::metadata(&copy).ok())
        .map(|m| m.len());
    let _ = std::fs::remove_file(&copy);
    Some(BinarySize { file, stripped })
}
