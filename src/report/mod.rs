//! Output formats. Each format is its own file; nothing outside `report/` writes to
//! standard output.

pub mod check_json;
pub mod check_measures;
pub mod check_nagios;
pub mod check_prometheus;
pub mod check_text;
pub mod command_line;
pub mod completions;
pub mod escape;
pub mod github;
pub mod json;
pub mod man;
pub mod messaging_json;
pub mod messaging_text;
pub mod rules;
pub mod sarif;
pub mod source;
pub mod text;

use crate::cli::LintFormat;
use crate::diagnostic::Severity;
use crate::lint::LintOutcome;
use crate::manifest::judge::SkipReason;
use std::io::{self, Write};

/// A message for standard error (an error, a note, a warning), as it may be printed:
/// credentials in any URL masked, control characters escaped.
pub fn safe_message(message: &str) -> String {
    escape::text(&crate::natsurl::mask_credentials_in_text(message)).into_owned()
}

/// Writes `nats-doctor: MESSAGE` to standard error, made safe by [`safe_message`].
pub fn print_error(message: &str) {
    eprintln!("nats-doctor: {}", safe_message(message));
}

/// How many walked files were skipped, by reason, in the order of the reasons' names.
pub fn skipped_counts(outcome: &LintOutcome) -> Vec<(SkipReason, usize)> {
    SkipReason::ALL
        .iter()
        .map(|reason| {
            let count = outcome
                .skipped
                .iter()
                .filter(|skipped| skipped.reason == *reason)
                .count();
            (*reason, count)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// Counts by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of(outcome: &LintOutcome) -> Self {
        let mut counts = Counts::default();
        for finding in &outcome.findings {
            match finding.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Info => counts.infos += 1,
            }
        }
        counts
    }
}

/// Writes a lint outcome in `format`. Input errors, notes and (with `verbose`) the
/// skipped files go to standard error in every format, so that machine-readable output
/// stays exactly its schema.
pub fn write_lint(
    out: &mut dyn Write,
    outcome: &LintOutcome,
    format: LintFormat,
    quiet: bool,
    verbose: bool,
) -> io::Result<()> {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for error in &outcome.errors {
        text::write_input_error(&mut err, error)?;
    }
    for note in &outcome.notes {
        text::write_note(&mut err, note)?;
    }
    if verbose {
        for skipped in &outcome.skipped {
            text::write_skipped(&mut err, skipped)?;
        }
    }
    match format {
        LintFormat::Text => text::write_lint(out, outcome, quiet),
        LintFormat::Json => json::write_lint(out, outcome),
        LintFormat::Github => github::write_lint(out, outcome),
        LintFormat::Sarif => sarif::write_lint(out, outcome),
    }
}
