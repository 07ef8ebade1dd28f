//! The human format: one compiler-style block per finding, then a summary line.
//!
//! Hand-written rather than a diagnostic renderer crate. Measured on an ND101 finding
//! with its object, `used by` and help lines (release builds): annotate-snippets 0.12
//! (`Renderer::plain`) writes the same block but for an extra `   |` line before the
//! `= ...` lines, colours with other escape sequences than `colored` (so
//! `--color always` output would change), adds 202 KB to a binary and takes 11.4 µs a
//! finding; codespan-reporting 0.13 with ASCII characters indents `-->` one column
//! more than the gutter and lays out notes its own way, adds 89 KB and takes 5.6 µs.
//! This writer's whole text report, source lines re-read and masked included, costs
//! some 13 µs a finding over the JSON one (30 ms user time for the 2,358 findings of
//! the shared benchmark corpus). Neither crate would change what the block says; both
//! would change its bytes, and the masking of secrets, the escaping of control
//! characters and the caret width over escaped text stay ours either way.

use crate::diagnostic::{Finding, InputError, Note, Severity};
use crate::manifest::judge::Skipped;
use crate::report::escape;
use crate::report::lint::source::{Focus, Sources};
use crate::report::lint::Counts;
use crate::rules::LintOutcome;
use colored::{ColoredString, Colorize};
use std::borrow::Cow;
use std::io::{self, Write};

/// The most consumers a `used by:` line names.
const USED_BY_SHOWN: usize = 20;

fn severity_label(severity: Severity) -> ColoredString {
    match severity {
        Severity::Error => "error".red().bold(),
        Severity::Warning => "warning".yellow().bold(),
        Severity::Info => "info".cyan().bold(),
    }
}

pub fn write_input_error(out: &mut dyn Write, error: &InputError) -> io::Result<()> {
    let message = crate::natsurl::mask_credentials_in_text(&error.to_string());
    writeln!(out, "{}: {}", "error".red().bold(), escape::text(&message))
}

pub fn write_note(out: &mut dyn Write, note: &Note) -> io::Result<()> {
    let message = crate::natsurl::mask_credentials_in_text(&note.to_string());
    writeln!(out, "{}: {}", "note".cyan().bold(), escape::text(&message))
}

/// One skipped file, with `--verbose`.
pub fn write_skipped(out: &mut dyn Write, skipped: &Skipped) -> io::Result<()> {
    write!(
        out,
        "{}: {}: {}",
        "skipped".dimmed(),
        escape::text(&skipped.file),
        skipped.reason.describe()
    )?;
    match &skipped.detail {
        Some(detail) => writeln!(out, " ({})", escape::text(detail)),
        None => writeln!(out),
    }
}

pub fn write_lint(out: &mut dyn Write, outcome: &LintOutcome, quiet: bool) -> io::Result<()> {
    let mut sources = Sources::new(outcome.stdin.as_deref());
    for finding in &outcome.findings {
        write_finding(out, finding, &mut sources)?;
    }
    if quiet {
        return Ok(());
    }
    let counts = Counts::of(outcome);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut summary = format!(
        "{}, {}, {} in {} from {}",
        plural(counts.errors, "error"),
        plural(counts.warnings, "warning"),
        plural(counts.infos, "info"),
        plural(outcome.objects, "object"),
        plural(outcome.files, "input"),
    );
    if !outcome.errors.is_empty() {
        summary.push_str(&format!(
            "; {} could not be read",
            plural(outcome.errors.len(), "input")
        ));
    }
    if !outcome.skipped.is_empty() {
        let reasons: Vec<&str> = crate::report::lint::skipped_counts(outcome)
            .into_iter()
            .map(|(reason, _)| reason.as_str())
            .collect();
        summary.push_str(&format!(
            "; {} skipped ({}; -v lists them)",
            plural(outcome.skipped.len(), "file"),
            reasons.join(", ")
        ));
    }
    let summary = if counts.errors > 0 || !outcome.errors.is_empty() {
        summary.red().bold()
    } else if counts.warnings > 0 {
        summary.yellow().bold()
    } else {
        summary.green().bold()
    };
    writeln!(out, "{summary}")
}

fn write_finding(
    out: &mut dyn Write,
    finding: &Finding,
    sources: &mut Sources<'_>,
) -> io::Result<()> {
    writeln!(
        out,
        "{}{}: {}",
        severity_label(finding.severity),
        format!("[{}]", finding.code).bold(),
        escape::text(&finding.message).bold()
    )?;
    // One gutter for the block, wide enough for every line number it shows.
    let widest = finding
        .related
        .iter()
        .map(|r| r.location.line)
        .chain([finding.location.line])
        .max()
        .unwrap_or(1);
    let gutter = " ".repeat(widest.to_string().len());
    writeln!(
        out,
        "{gutter}{} {}",
        "-->".blue().bold(),
        escape::text(&finding.location.to_string())
    )?;
    let shown = if finding.hide_source {
        None
    } else {
        sources.line(
            &finding.location.file,
            finding.location.line,
            Some(Focus {
                column: finding.location.column,
                variable: finding.variable.as_deref(),
            }),
        )
    };
    let bar = "|".blue().bold();
    if let Some(source) = shown {
        let (source, column, width) = window(&source, finding.location.column, finding.width);
        let carets = "^".repeat(underline_width(&source, column, width));
        let carets = match finding.severity {
            Severity::Error => carets.red().bold(),
            Severity::Warning => carets.yellow().bold(),
            Severity::Info => carets.cyan().bold(),
        };
        writeln!(out, "{gutter} {bar}")?;
        write_source_line(out, &gutter, finding.location.line, &source)?;
        writeln!(out, "{gutter} {bar} {}{carets}", padding(&source, column))?;
    }
    for related in &finding.related {
        // The second place of a finding, underlined like the first, with its label.
        let source = if finding.hide_source && related.location.file == finding.location.file {
            None
        } else {
            sources.line(&related.location.file, related.location.line, None)
        };
        writeln!(
            out,
            "{gutter}{} {}",
            ":::".blue().bold(),
            escape::text(&related.location.to_string())
        )?;
        match source {
            Some(source) => {
                let (source, column, _) = window(&source, related.location.column, 0);
                let width = token_width(&source, column);
                writeln!(out, "{gutter} {bar}")?;
                write_source_line(out, &gutter, related.location.line, &source)?;
                writeln!(
                    out,
                    "{gutter} {bar} {}{} {}",
                    padding(&source, column),
                    "-".repeat(width).blue().bold(),
                    escape::text(&related.label).blue().bold()
                )?;
            }
            None => writeln!(
                out,
                "{gutter} {bar} {}",
                escape::text(&related.label).blue().bold()
            )?,
        }
    }
    let eq = "=".blue().bold();
    let mut object = Vec::new();
    if let Some(reference) = &finding.object {
        object.push(reference.to_string());
    }
    if let Some(container) = &finding.container {
        object.push(format!("container {container}"));
    }
    if let Some(variable) = &finding.variable {
        object.push(format!("variable {variable}"));
    }
    if let Some(field) = &finding.field {
        object.push(format!("field {field}"));
    }
    if !object.is_empty() {
        writeln!(
            out,
            "{gutter} {eq} {} {}",
            "object:".bold(),
            escape::text(&object.join(", "))
        )?;
    }
    if !finding.used_by.is_empty() {
        // A value read by thousands of workloads names the first of them and counts the
        // rest, in every finding at it.
        let users: Vec<String> = finding
            .used_by
            .iter()
            .take(USED_BY_SHOWN)
            .map(ToString::to_string)
            .collect();
        let more = match finding.used_by.len().saturating_sub(USED_BY_SHOWN) {
            0 => String::new(),
            more => format!(" and {more} more"),
        };
        writeln!(
            out,
            "{gutter} {eq} {} {}{more}",
            "used by:".bold(),
            escape::text(&users.join(", "))
        )?;
    }
    if let Some(help) = &finding.help {
        writeln!(
            out,
            "{gutter} {eq} {} {}",
            "help:".bold(),
            escape::text(help)
        )?;
    }
    if let Some(runbook) = &finding.runbook {
        writeln!(
            out,
            "{gutter} {eq} {} {}",
            "runbook:".bold(),
            escape::text(runbook)
        )?;
    }
    writeln!(out)
}

fn write_source_line(out: &mut dyn Write, gutter: &str, line: u32, source: &str) -> io::Result<()> {
    let number = format!("{line:>width$}", width = gutter.len());
    writeln!(
        out,
        "{} {} {}",
        number.blue().bold(),
        "|".blue().bold(),
        escape::text(source)
    )
}

/// The longest source line shown whole, in characters. A longer line is cut to this
/// many around the marked column, with `...` where it was cut (as rustc shows long
/// lines): a thousand findings on one line of a long server list print a thousand
/// short lines, not a thousand copies of the list.
const LINE_SHOWN: usize = 160;

/// Characters shown before the marked column of a cut line.
const BEFORE_MARK: usize = 40;

/// The part of `source` shown, the marked column (1-based) in it, and how many of
/// `width` characters from there are shown (a cut never underlines its `...`).
fn window(source: &str, column: u32, width: u32) -> (Cow<'_, str>, u32, u32) {
    // A line of at most LINE_SHOWN bytes has at most that many characters.
    if source.len() <= LINE_SHOWN || source.chars().count() <= LINE_SHOWN {
        return (Cow::Borrowed(source), column, width);
    }
    let mark = usize::try_from(column.max(1) - 1).unwrap_or(0);
    let first = mark.saturating_sub(BEFORE_MARK);
    let kept: String = source.chars().skip(first).take(LINE_SHOWN).collect();
    let width = width
        .min(u32::try_from(kept.chars().count().saturating_sub(mark - first)).unwrap_or(u32::MAX));
    let cut_after = source.chars().count() > first + LINE_SHOWN;
    let mut shown = String::with_capacity(kept.len() + 6);
    let mut column = mark - first + 1;
    if first > 0 {
        shown.push_str("...");
        column += 3;
    }
    shown.push_str(&kept);
    if cut_after {
        shown.push_str("...");
    }
    (
        Cow::Owned(shown),
        u32::try_from(column).unwrap_or(u32::MAX),
        width,
    )
}

/// The characters before `column` (1-based) and from it on.
fn split_at_column(source: &str, column: u32) -> (&str, &str) {
    let column = usize::try_from(column.max(1) - 1).unwrap_or(0);
    let at = source
        .char_indices()
        .nth(column)
        .map_or(source.len(), |(at, _)| at);
    source.split_at(at)
}

/// Spaces up to `column` (1-based) of the line as it is shown (escaped), so that the
/// marks line up under it.
fn padding(source: &str, column: u32) -> String {
    let (before, _) = split_at_column(source, column);
    " ".repeat(escape::text(before).chars().count())
}

/// How many characters to underline: `width` characters of the line from `column`,
/// kept within the line, counted as the line is shown (escaped).
fn underline_width(source: &str, column: u32, width: u32) -> usize {
    let (_, from) = split_at_column(source, column);
    let width = usize::try_from(width).unwrap_or(1).max(1);
    let marked: String = from.chars().take(width).collect();
    escape::text(&marked).chars().count().max(1)
}

/// The width of the word at `column`: up to white space, `:` or a flow delimiter.
fn token_width(source: &str, column: u32) -> usize {
    let (_, from) = split_at_column(source, column);
    let word: String = from
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ':' | ',' | '{' | '}' | '[' | ']'))
        .collect();
    escape::text(&word).chars().count().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_line_is_shown_whole() {
        let (shown, column, width) = window("  NATS_URL: nats://10.0.0.1:4222", 13, 20);
        assert_eq!(shown, "  NATS_URL: nats://10.0.0.1:4222");
        assert_eq!((column, width), (13, 20));
    }

    #[test]
    fn a_long_line_is_cut_around_the_mark() {
        let line = format!("  NATS_URL: \"{}\"", "nats://a:4222,".repeat(1000));
        let mark = 13 + 14 * 500;
        let (shown, column, width) = window(&line, mark, 14_000);
        assert!(
            shown.starts_with("...") && shown.ends_with("..."),
            "{shown}"
        );
        assert_eq!(shown.chars().count(), LINE_SHOWN + 6);
        // The marked character is the same one.
        let at = |text: &str, column: u32| text.chars().nth(column as usize - 1);
        assert_eq!(at(&shown, column), at(&line, mark));
        assert_eq!(column, 3 + BEFORE_MARK as u32 + 1);
        // The marks stop where the line is cut, before its `...`.
        assert_eq!(width as usize, LINE_SHOWN - BEFORE_MARK);
    }

    #[test]
    fn a_mark_near_the_start_of_a_long_line_keeps_the_start() {
        let line = "x".repeat(10_000);
        let (shown, column, _) = window(&line, 5, 1);
        assert!(!shown.starts_with("...") && shown.ends_with("..."));
        assert_eq!(column, 5);
        let (shown, column, width) = window(&line, 10_000, 5);
        assert!(shown.starts_with("...") && !shown.ends_with("..."));
        assert_eq!(shown.chars().nth(column as usize - 1), Some('x'));
        assert_eq!(width, 1, "only the last character is left to mark");
    }
}
