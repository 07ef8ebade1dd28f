//! The human format of `test-messaging` (one line per case) and `watch` (one line per
//! event, the problems of an invalid one indented below it, a summary at the end).
//! Subjects, payload fields, server texts and settings are escaped for the terminal.

use crate::events::EventDigest;
use crate::messaging::session::humanize;
use crate::messaging::test_messaging::{self, Publishing, Report};
use crate::messaging::watch::{Disconnection, End, Observed, Reconnection, Summary, WatchSink};
use crate::report::{escape, Output};
use crate::rfc3339;
use colored::Colorize;
use std::io::{self, Write};
use std::time::Duration;

/// Writes a `test-messaging` report. `quiet` leaves out passing cases, the preamble and
/// the closing lines; `watch` is the `watch` command that sees what such a run publishes.
pub fn write_test_messaging(
    out: &mut dyn Write,
    report: &Report,
    watch: &str,
    quiet: bool,
) -> io::Result<()> {
    match &report.publishing {
        Publishing::Disabled { value } => {
            if !quiet {
                writeln!(
                    out,
                    "messaging is disabled (NATS_ENABLED=\"{}\"; the services publish only \
                     when it is \"true\"): nothing published",
                    escape::text(value)
                )?;
            }
            return Ok(());
        }
        Publishing::NotConnected { error } => {
            return writeln!(
                out,
                "{} {}\n     nothing published; `nats-doctor check` diagnoses the connection",
                "FAIL".red().bold(),
                escape::text(error)
            );
        }
        Publishing::Ran => {}
    }
    if !quiet {
        if report.live {
            writeln!(
                out,
                "{} publishing to the live prefix {}: its consumers receive these test events \
                 (header {}: true)",
                "LIVE".yellow().bold(),
                escape::text(&report.prefix),
                test_messaging::TEST_HEADER
            )?;
        } else {
            writeln!(
                out,
                "sandbox prefix {} (consumers of {} see nothing; --live publishes there)",
                escape::text(&report.prefix),
                escape::text(&report.configured_prefix)
            )?;
        }
        if let Some(server) = &report.server {
            writeln!(out, "server {}", escape::text(server))?;
        }
        writeln!(
            out,
            "subscribed {}",
            escape::text(&report.subscriptions.join(", "))
        )?;
    }
    let name_width = report.cases.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let subject_width = report
        .cases
        .iter()
        .map(|c| escape::text(&c.subject).chars().count())
        .max()
        .unwrap_or(0);
    for case in &report.cases {
        if quiet && case.passed() {
            continue;
        }
        let status = if case.passed() {
            "PASS".green().bold()
        } else {
            "FAIL".red().bold()
        };
        let latency = case.latency.map_or_else(|| "-".to_string(), format_latency);
        writeln!(
            out,
            "{status}  {:name_width$}  {:subject_width$}  {latency}",
            case.name,
            escape::text(&case.subject)
        )?;
        for problem in &case.problems {
            writeln!(
                out,
                "      {}: {}",
                problem.code.red(),
                escape::text(&problem.message)
            )?;
        }
    }
    if quiet {
        return Ok(());
    }
    let passed = report.cases.iter().filter(|c| c.passed()).count();
    let failed = report.cases.len() - passed;
    let line = format!(
        "{passed} passed, {failed} failed in {}",
        format_latency(report.elapsed)
    );
    writeln!(
        out,
        "{}",
        if failed == 0 {
            line.green().bold()
        } else {
            line.red().bold()
        }
    )?;
    if report.foreign_messages > 0 {
        writeln!(
            out,
            "({} other message(s) on the subscriptions were not from this run and were ignored)",
            report.foreign_messages
        )?;
    }
    if report.live {
        writeln!(
            out,
            "watch the live prefix as its consumers do: {}",
            escape::text(watch)
        )?;
    } else {
        // The sandbox is new with each run: the watch follows every run's.
        writeln!(
            out,
            "watch sandbox runs as a consumer would (start it, then run test-messaging again): {}",
            escape::text(watch)
        )?;
    }
    Ok(())
}

fn format_latency(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    if millis < 10.0 {
        format!("{millis:.2} ms")
    } else if millis < 1000.0 {
        format!("{millis:.1} ms")
    } else {
        format!("{:.2} s", millis / 1000.0)
    }
}

/// `watch` in the human format.
pub struct WatchText<W: Write> {
    out: Output<W>,
    quiet: bool,
}

impl<W: Write> WatchText<W> {
    /// `quiet` prints invalid messages only.
    pub fn new(out: W, quiet: bool) -> Self {
        WatchText {
            out: Output::new(out),
            quiet,
        }
    }
}

impl<W: Write> WatchSink for WatchText<W> {
    fn closed(&self) -> bool {
        self.out.is_closed()
    }

    fn started(&mut self, subject: &str, server: &str) -> io::Result<()> {
        // On standard error, like the JSON format: standard output is the events, and
        // scripts can wait for this line to know the subscription is live.
        if !self.quiet {
            eprintln!(
                "watching {} on {} (Ctrl-C for the summary)",
                escape::text(subject),
                escape::text(server)
            );
        }
        Ok(())
    }

    fn message(&mut self, observed: &Observed<'_>) -> io::Result<()> {
        let checked = observed.checked;
        if self.quiet && checked.is_valid() {
            return Ok(());
        }
        let stamp = rfc3339::format_utc_millis(observed.received_at);
        let time = stamp.get(11..).unwrap_or(&stamp);
        let status = if checked.is_valid() {
            "ok ".green()
        } else {
            "BAD".red().bold()
        };
        let details = if checked.is_object {
            describe(&checked.digest)
        } else {
            format!("({} bytes)", observed.payload.len())
        };
        writeln!(
            self.out,
            "{time} {status} {} {}",
            escape::text(observed.subject),
            escape::text(&details)
        )?;
        for problem in &checked.problems {
            writeln!(
                self.out,
                "    {}: {}",
                problem.code.as_str().red(),
                escape::text(&problem.message)
            )?;
        }
        Ok(())
    }

    fn idle(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn disconnected(&mut self, disconnection: &Disconnection<'_>) -> io::Result<()> {
        // On standard error with the announcement: standard output is the events. The
        // lines already written come first.
        self.out.flush()?;
        eprintln!("{}", escape::text(&disconnected_line(disconnection)));
        Ok(())
    }

    fn reconnected(&mut self, reconnection: &Reconnection<'_>) -> io::Result<()> {
        self.out.flush()?;
        eprintln!("{}", escape::text(&reconnected_line(reconnection)));
        Ok(())
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        let mut line = format!(
            "received {}, valid {}, invalid {}",
            summary.received, summary.valid, summary.invalid
        );
        if !summary.by_problem.is_empty() {
            let reasons: Vec<String> = summary
                .by_problem
                .iter()
                .map(|(code, count)| format!("{code} {count}"))
                .collect();
            line.push_str(&format!(" ({})", reasons.join(", ")));
        }
        line.push_str(&format!(
            "; {:.1} msgs/s over {}",
            summary.rate(),
            humanize(summary.elapsed)
        ));
        match &summary.end {
            End::Count => line.push_str("; count reached"),
            End::Duration => line.push_str("; duration reached"),
            End::Interrupted => line.push_str("; interrupted"),
            End::ConnectionLost {
                window,
                attempts,
                regained: 0,
            } => line.push_str(&format!(
                "; connection lost and not regained within {} ({attempts} attempt{})",
                humanize(*window),
                if *attempts == 1 { "" } else { "s" }
            )),
            End::ConnectionLost {
                window,
                attempts,
                regained,
            } => line.push_str(&format!(
                "; the connection kept failing for {} ({attempts} attempts, {regained} of them connected)",
                humanize(*window)
            )),
            End::OutputClosed => {}
        }
        let line = if summary.ok() {
            line.green().bold()
        } else {
            line.red().bold()
        };
        writeln!(self.out, "{line}")?;
        for warning in warnings(summary) {
            writeln!(
                self.out,
                "{} {}",
                "warning:".yellow().bold(),
                escape::text(&warning)
            )?;
        }
        self.out.flush()
    }
}

/// `disconnected from …: why; reconnecting for up to 2m …`.
pub fn disconnected_line(disconnection: &Disconnection<'_>) -> String {
    format!(
        "disconnected from {}: {}; reconnecting for up to {} (messages published meanwhile are lost: core NATS does not replay them)",
        disconnection.server,
        disconnection.reason,
        humanize(disconnection.window)
    )
}

/// `reconnected to … after 1.2s (3 attempts), watching … again`.
pub fn reconnected_line(reconnection: &Reconnection<'_>) -> String {
    format!(
        "reconnected to {} after {} ({} attempt{}), watching {} again",
        reconnection.server,
        humanize(reconnection.after),
        reconnection.attempts,
        if reconnection.attempts == 1 { "" } else { "s" },
        reconnection.subject
    )
}

/// What a summary must tell beyond counts: lost messages and connection trouble.
pub fn warnings(summary: &Summary) -> Vec<String> {
    let mut warnings = Vec::new();
    if summary.slow_consumer > 0 {
        warnings.push(format!(
            "{} slow-consumer notice(s): messages were dropped before they could be validated",
            summary.slow_consumer
        ));
    }
    if summary.disconnections > 0 {
        warnings.push(format!(
            "disconnected {} time(s), {} without a subscription in all: what was published then was not received (core NATS does not replay it)",
            summary.disconnections,
            humanize(summary.disconnected_for)
        ));
    }
    for error in &summary.connection_errors {
        warnings.push(error.clone());
    }
    if summary.more_errors > 0 {
        warnings.push(format!(
            "{} more distinct error(s), not shown",
            summary.more_errors
        ));
    }
    warnings
}

/// `extraction_completed BTCUSDT 15m records 150/150 3.5s success`; `-` where a field
/// was missing or unusable.
fn describe(digest: &EventDigest) -> String {
    let dash = || "-".to_string();
    let symbols = match digest.symbols.len() {
        0 => dash(),
        1..=4 => digest.symbols.join(","),
        n => format!("{},… ({n} symbols)", digest.symbols[..3].join(",")),
    };
    let count = |value: Option<u64>| value.map_or_else(dash, |v| v.to_string());
    format!(
        "{} {} {} {} records {}/{} {} {}",
        digest.event_type.clone().unwrap_or_else(dash),
        digest.extraction_type.clone().unwrap_or_else(dash),
        symbols,
        digest.period.clone().unwrap_or_else(dash),
        count(digest.records_fetched),
        count(digest.records_written),
        digest
            .duration_seconds
            .map_or_else(dash, |seconds| format!("{seconds}s")),
        match digest.success {
            Some(true) => "success",
            Some(false) => "failed",
            None => "-",
        }
    )
}
