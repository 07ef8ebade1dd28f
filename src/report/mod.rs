//! Printers: nothing outside `report/` writes output. One folder per command, one file
//! per format — `lint/` (text, json, sarif, github), `check/` (text, json, nagios,
//! prometheus), `messaging/` (test-messaging and watch, text and json) — and the
//! pieces they share: [`output`] (the writer that stops at a closed pipe), [`escape`]
//! (control characters), [`command_line`] (the command-line parser's errors made
//! safe), the rule listing ([`rules`]), the man page and the completion scripts.

pub mod check;
pub mod command_line;
pub mod completions;
pub mod escape;
pub mod lint;
pub mod man;
pub mod messaging;
pub mod output;
pub mod rules;

pub use output::Output;

/// A message for standard error (an error, a note, a warning), as it may be printed:
/// credentials in any URL masked, control characters escaped.
pub fn safe_message(message: &str) -> String {
    escape::text(&crate::natsurl::mask_credentials_in_text(message)).into_owned()
}

/// Writes `nats-doctor: MESSAGE` to standard error, made safe by [`safe_message`].
pub fn print_error(message: &str) {
    eprintln!("nats-doctor: {}", safe_message(message));
}
