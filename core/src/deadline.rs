//! The answer's deadline: the Lambda deadline minus the margin kept to report the outcome.
//!
//! One [`AnswerDeadline`] bounds everything the app does for a request — producing the response
//! head *and* its body — whether the body is then collected (a buffered answer, a batch record)
//! or streamed. [`serve_bounded`](crate::framework::serve_bounded) applies it.

use std::time::Duration;

use tokio::time::Instant;

use crate::context::LambdaContext;
use crate::error::Error;

/// When the app's whole answer to an invocation must be complete: the Lambda deadline minus the
/// margin kept to report the outcome (a timeout error) before Lambda stops the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AnswerDeadline {
    /// The instant the app is given up on.
    at: Instant,
    /// The time the app was given, from when the deadline was set (for messages).
    budget: Duration,
}

impl AnswerDeadline {
    /// The deadline of the invocation `context` belongs to, keeping `margin` to report a timeout.
    /// `None` when the Lambda deadline is unknown (absent, or not a timestamp as some local
    /// emulators send): then nothing is timed.
    pub(crate) fn for_invocation(context: &LambdaContext, margin: Duration) -> Option<Self> {
        let budget = context.remaining()?.saturating_sub(margin);
        Some(Self::after(budget))
    }

    /// A deadline `budget` from now.
    pub(crate) fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// The instant the app is given up on.
    pub(crate) fn at(&self) -> Instant {
        self.at
    }

    /// True once the deadline has passed.
    pub(crate) fn has_passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// The error for an app that sent no response head in time.
    pub(crate) fn head_timeout(&self) -> Error {
        Error::timeout(format!(
            "the application did not answer within {} ms, the time left before the Lambda \
             deadline minus the margin kept to report it; make the route faster, raise the \
             function's timeout, or stream a long answer",
            self.budget.as_millis()
        ))
    }

    /// The error for a request whose deadline had passed before the app could be called.
    pub(crate) fn not_started(&self) -> Error {
        Error::timeout(
            "the application was not called: the Lambda deadline minus the margin kept to \
             report it had passed before its turn (a batch record waiting behind slower ones, \
             or an invocation that arrived with less than the margin left); raise the \
             function's timeout or make the app faster",
        )
    }

    /// The error for an app whose response head came in time but whose body did not end.
    pub(crate) fn body_timeout(&self) -> Error {
        Error::timeout(format!(
            "the application's response body was not complete within {} ms, the time left \
             before the Lambda deadline minus the margin kept to report it (its head came in \
             time); make the route faster, raise the function's timeout, or stream a long answer",
            self.budget.as_millis()
        ))
    }
}
