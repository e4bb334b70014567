//! The emulator's own errors (a function's failures are [`crate::FunctionError`]s).

use std::fmt;
use std::io;

/// Something went wrong in the emulator or in talking to it.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A socket or process operation failed.
    Io(io::Error),
    /// The event is larger than Lambda's invocation payload limit.
    PayloadTooLarge {
        /// The event's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The emulator has stopped.
    Stopped,
    /// An HTTP exchange failed (client side).
    Http(String),
    /// A wait ran out of time.
    TimedOut(&'static str),
    /// A setting is invalid.
    Config(String),
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorError::Io(e) => write!(f, "I/O error: {e}"),
            EmulatorError::PayloadTooLarge { size, limit } => write!(
                f,
                "RequestEntityTooLargeException: {size} bytes; request must be smaller than {limit} bytes for the InvokeFunction operation"
            ),
            EmulatorError::Stopped => write!(f, "the emulator has stopped"),
            EmulatorError::Http(e) => write!(f, "HTTP error: {e}"),
            EmulatorError::TimedOut(what) => write!(f, "timed out waiting for {what}"),
            EmulatorError::Config(e) => write!(f, "invalid setting: {e}"),
        }
    }
}

impl std::error::Error for EmulatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmulatorError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for EmulatorError {
    fn from(e: io::Error) -> Self {
        EmulatorError::Io(e)
    }
}
