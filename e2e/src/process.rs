//! Child processes that are always stopped, descendants included, and what a test reads of
//! them (liveness, memory).

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A child process in its own process group, killed (group and all) when dropped.
#[derive(Debug)]
pub struct ChildGuard(Child);

impl ChildGuard {
    /// Spawns `command` in a new process group, stdin closed.
    pub fn spawn(mut command: Command) -> Self {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0).stdin(Stdio::null());
        Self(command.spawn().expect("the process starts"))
    }

    /// The process id (also its process group id).
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    /// Sends `signal` to the process alone.
    pub fn signal(&self, signal: i32) {
        send_signal(self.0.id() as i32, signal);
    }

    /// Sends `signal` to the process's whole group (the process and whatever it started that
    /// did not leave its group).
    pub fn signal_group(&self, signal: i32) {
        send_signal(-(self.0.id() as i32), signal);
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.0.try_wait().expect("the child can be polled")
    }

    /// Waits for the process to exit, up to `limit`, blocking the thread.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if start.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// As [`wait_timeout`](Self::wait_timeout), without blocking the test's async runtime
    /// (which may be running the emulator, a mock or a relay the process still talks to).
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if start.elapsed() >= limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let pgid = self.0.id() as i32;
        // The group, then anything that left it but descends from the child.
        let descendants = descendants_of(self.0.id());
        send_signal(-pgid, libc::SIGKILL);
        for pid in descendants {
            send_signal(pid as i32, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

fn send_signal(pid: i32, signal: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Sends `signal` (`libc::SIGTERM`, ...) to `pid` (a negative `pid`: to that process group);
/// a process that is already gone is not an error.
pub fn kill(pid: i32, signal: i32) {
    send_signal(pid, signal);
}

/// The direct children of `pid` (of all its threads), from `/proc/<pid>/task/*/children`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in list
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
        {
            if !found.contains(&child) {
                found.push(child);
            }
        }
    }
    found
}

/// The parent pid of `pid`, from `/proc/<pid>/stat`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: read after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// The state letter of `pid` (`R`, `S`, `Z`, ...), if it exists.
fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Every living descendant of `root` (children, their children, ...).
pub fn descendants_of(root: u32) -> Vec<u32> {
    let pids = all_pids();
    let mut found = vec![root];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        for &pid in &pids {
            if parent_of(pid) == Some(parent) && !found.contains(&pid) {
                found.push(pid);
            }
        }
        index += 1;
    }
    found.remove(0);
    found
}

/// True while `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    state_of(pid).is_some_and(|state| state != 'Z')
}

/// Waits until `pid` is gone (or a zombie), up to `limit`; false if it is still alive then.
pub fn wait_gone(pid: u32, limit: Duration) -> bool {
    let start = Instant::now();
    while is_alive(pid) {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The peak resident set (`VmHWM`, KiB) of `pid` and its living descendants, summed.
pub fn peak_rss_kib(pid: u32) -> u64 {
    std::iter::once(pid)
        .chain(descendants_of(pid))
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

/// Waits until something accepts connections on `port`, up to `limit`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
