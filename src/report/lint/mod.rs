//! The formats of `lint`: `text` (compiler-style blocks and a summary), `json`, `sarif`
//! (GitHub code scanning) and `github` (workflow commands), each in its own file, and
//! what all of them print on standard error: input errors, notes and, with `-v`, the
//! skipped files, so that standard output stays exactly its format.

pub mod github;
pub mod json;
pub mod sarif;
pub mod source;
pub mod text;

use crate::diagnostic::Severity;
use crate::manifest::judge::SkipReason;
use crate::rules::LintOutcome;
use std::io::{self, Write};

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

/// Input errors, notes and (with `verbose`) the skipped files, for standard error in
/// every format.
pub fn write_diagnostics(
    err: &mut dyn Write,
    outcome: &LintOutcome,
    verbose: bool,
) -> io::Result<()> {
    for error in &outcome.errors {
        text::write_input_error(err, error)?;
    }
    for note in &outcome.notes {
        text::write_note(err, note)?;
    }
    if verbose {
        for skipped in &outcome.skipped {
            text::write_skipped(err, skipped)?;
        }
    }
    Ok(())
}
