//! The adapters' integration tests, one binary: every adapter through the public API against
//! hostile events (`hostile`), the cross-adapter matrix of real fixtures (`matrix`), batch
//! settlement (`settlement`), and no message lost under random outcomes, served by a real
//! function against the emulator (`no_message_lost`).

mod hostile;
mod matrix;
mod no_message_lost;
mod settlement;
