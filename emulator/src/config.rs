//! Settings of one emulated function.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Lambda's synchronous invocation payload limit (request), in bytes.
pub const REQUEST_LIMIT: usize = 6 * 1024 * 1024;
/// Lambda's buffered answer limit, in bytes (Lambda allows 100 bytes over 6 MiB).
pub const RESPONSE_LIMIT: usize = 6 * 1024 * 1024 + 100;
/// Lambda's default streamed answer limit, in bytes (200 MB).
pub const STREAM_LIMIT: u64 = 200 * 1024 * 1024;
/// Bytes streamed at full speed before the optional 2 MB/s throttle applies.
pub const THROTTLE_AFTER: u64 = 6 * 1024 * 1024;
/// Throttled streaming rate, in bytes per second.
pub const THROTTLE_RATE: u64 = 2 * 1024 * 1024;
/// The default stream buffer: how many bytes of a streamed answer the emulator holds for an
/// invoker (a Function URL client, an [`InvocationStream`](crate::InvocationStream)) that has
/// not taken them yet. Past it, the emulator stops reading the function's answer, so TCP flow
/// control slows the function down to the invoker's pace.
pub const STREAM_BUFFER: usize = 1024 * 1024;

/// What the Function URL asks of the function's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvokeMode {
    /// `BUFFERED`: the whole answer is collected (6 MB limit) before the client gets it.
    Buffered,
    /// `RESPONSE_STREAM`: streamed answers are passed on chunk by chunk as they arrive;
    /// buffered answers are still accepted.
    #[default]
    ResponseStream,
}

impl std::str::FromStr for InvokeMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "buffered" => Ok(InvokeMode::Buffered),
            "response_stream" | "response-stream" | "stream" | "streaming" => {
                Ok(InvokeMode::ResponseStream)
            }
            other => Err(format!(
                "invalid invoke mode `{other}` (expected buffered or response_stream)"
            )),
        }
    }
}

/// A command to run, kept so that it can be started again after a crash.
#[derive(Debug, Clone)]
pub(crate) struct CommandSpec {
    pub(crate) program: OsString,
    pub(crate) args: Vec<OsString>,
    pub(crate) envs: Vec<(OsString, Option<OsString>)>,
    pub(crate) cwd: Option<PathBuf>,
}

impl CommandSpec {
    pub(crate) fn from_std(cmd: &std::process::Command) -> Self {
        CommandSpec {
            program: cmd.get_program().to_owned(),
            args: cmd.get_args().map(ToOwned::to_owned).collect(),
            envs: cmd
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
                .collect(),
            cwd: cmd.get_current_dir().map(ToOwned::to_owned),
        }
    }

    /// The program's file name.
    pub(crate) fn file_name(&self) -> String {
        PathBuf::from(&self.program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.to_string_lossy().into_owned())
    }

    /// The value this command sets for an environment variable, if any.
    pub(crate) fn env(&self, key: &str) -> Option<&OsString> {
        self.envs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_ref())
    }
}

/// Everything the emulator needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) function_name: String,
    pub(crate) memory_mb: u32,
    pub(crate) timeout: Duration,
    /// Added to the deadline the function is told (`Lambda-Runtime-Deadline-Ms`), not to the
    /// timeout the emulator enforces.
    pub(crate) deadline_skew: Duration,
    /// `AWS_LAMBDA_RUNTIME_API` as the function is told it (default: the emulator's own).
    pub(crate) advertised_runtime_api: Option<String>,
    pub(crate) init_timeout: Duration,
    pub(crate) shutdown_grace: Duration,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) max_concurrency: u32,
    pub(crate) invoke_mode: InvokeMode,
    pub(crate) request_limit: usize,
    pub(crate) response_limit: usize,
    pub(crate) stream_limit: u64,
    pub(crate) throttle: bool,
    pub(crate) stream_buffer: usize,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) command: Option<CommandSpec>,
    pub(crate) extensions: Vec<CommandSpec>,
    pub(crate) handler: Option<String>,
    pub(crate) task_root: Option<PathBuf>,
    pub(crate) port: u16,
    pub(crate) runtime_port: u16,
    pub(crate) quiet: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            function_name: "function".into(),
            memory_mb: 128,
            timeout: Duration::from_secs(30),
            deadline_skew: Duration::ZERO,
            advertised_runtime_api: None,
            init_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(2),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            max_concurrency: 1,
            invoke_mode: InvokeMode::ResponseStream,
            request_limit: REQUEST_LIMIT,
            response_limit: RESPONSE_LIMIT,
            stream_limit: STREAM_LIMIT,
            throttle: false,
            stream_buffer: STREAM_BUFFER,
            env: Vec::new(),
            command: None,
            extensions: Vec::new(),
            handler: None,
            task_root: None,
            port: 0,
            runtime_port: 0,
            quiet: false,
        }
    }
}

impl Config {
    pub(crate) fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.function_name
        )
    }

    /// A configured environment value (`env`, then the command's own).
    pub(crate) fn env_value(&self, key: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                self.command
                    .as_ref()
                    .and_then(|c| c.env(key))
                    .map(|v| v.to_string_lossy().into_owned())
            })
    }
}
