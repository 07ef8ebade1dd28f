//! The JSON format of `test-messaging` (one document:
//! `{"version":1,"ok","prefix","live","cases":[…],"watch"}`) and `watch` (one object per line:
//! `{"subject","received_at","valid","problems","event"}`, then
//! `{"summary":{"received","valid","invalid","by_problem","rate"}}`, plus
//! `disconnections`, `disconnected_seconds` and `slow_consumer` when there were any).
//! Keys are a contract. Disconnections, reconnections and warnings are reported on
//! standard error as they happen, so that standard output stays exactly the schema.

use crate::events::Problem;
use crate::messaging::test_messaging::Report;
use crate::messaging::watch::{Disconnection, Observed, Reconnection, Summary, WatchSink};
use crate::report::messaging::text as messaging_text;
use crate::report::{escape, Output};
use crate::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Serialize)]
struct TestMessagingDocument<'a> {
    version: u32,
    ok: bool,
    prefix: &'a str,
    live: bool,
    cases: Vec<CaseDocument<'a>>,
    /// The `watch` command that sees what such a run publishes.
    watch: &'a str,
}

#[derive(Serialize)]
struct CaseDocument<'a> {
    name: &'a str,
    subject: &'a str,
    status: &'a str,
    latency_ms: Option<f64>,
    problems: Vec<ProblemDocument<'a>>,
}

#[derive(Serialize)]
struct ProblemDocument<'a> {
    code: &'a str,
    message: &'a str,
}

/// Writes a `test-messaging` report. A run that could not publish (disabled, invalid
/// prefix, no connection) has no cases; its reason goes to standard error.
pub fn write_test_messaging(out: &mut dyn Write, report: &Report, watch: &str) -> io::Result<()> {
    let document = TestMessagingDocument {
        version: 1,
        ok: report.ok(),
        prefix: &report.prefix,
        live: report.live,
        cases: report
            .cases
            .iter()
            .map(|case| CaseDocument {
                name: case.name,
                subject: &case.subject,
                status: if case.passed() { "pass" } else { "fail" },
                latency_ms: case
                    .latency
                    .map(|latency| (latency.as_secs_f64() * 1e6).round() / 1e3),
                problems: case
                    .problems
                    .iter()
                    .map(|problem| ProblemDocument {
                        code: problem.code,
                        message: &problem.message,
                    })
                    .collect(),
            })
            .collect(),
        watch,
    };
    escape::write_json(&mut *out, &document, false)?;
    writeln!(out)
}

/// `watch` as JSON lines.
pub struct WatchJson<W: Write> {
    out: Output<W>,
    quiet: bool,
    /// Reused between messages: the one-line copy of a payload that had line breaks.
    scratch: Vec<u8>,
    clock: rfc3339::MillisFormatter,
}

impl<W: Write> WatchJson<W> {
    /// `quiet` leaves out the announcement on standard error.
    pub fn new(out: W, quiet: bool) -> Self {
        WatchJson {
            out: Output::new(out),
            quiet,
            scratch: Vec::new(),
            clock: rfc3339::MillisFormatter::default(),
        }
    }
}

impl<W: Write> WatchSink for WatchJson<W> {
    fn closed(&self) -> bool {
        self.out.is_closed()
    }

    fn started(&mut self, subject: &str, server: &str) -> io::Result<()> {
        // Standard output carries only the documented objects; the announcement that the
        // subscription is live (scripts wait for it) goes to standard error.
        if !self.quiet {
            eprintln!(
                "nats-doctor: watching {} on {}",
                escape::text(subject),
                escape::text(server)
            );
        }
        Ok(())
    }

    fn message(&mut self, observed: &Observed<'_>) -> io::Result<()> {
        let out = &mut self.out;
        out.write_all(b"{\"subject\":")?;
        escape::write_json(&mut *out, observed.subject, false)?;
        out.write_all(b",\"received_at\":\"")?;
        out.write_all(self.clock.format(observed.received_at).as_bytes())?;
        out.write_all(b"\",\"valid\":")?;
        out.write_all(if observed.checked.is_valid() {
            b"true"
        } else {
            b"false"
        })?;
        out.write_all(b",\"problems\":")?;
        write_problems(&mut *out, &observed.checked.problems)?;
        out.write_all(b",\"event\":")?;
        if observed.checked.is_object {
            // The payload parsed as a JSON object, so it can be echoed as it came, without
            // a second serialization. Raw tabs and line breaks in valid JSON are
            // whitespace between tokens (strings cannot hold them), so turning them into
            // spaces keeps one object per line. The characters a terminal acts on that
            // JSON strings may hold raw (DEL, C1 controls, bidirectional overrides) start
            // with one of four bytes; only a payload with one of them is rewritten
            // character by character.
            let payload = observed.payload;
            if payload
                .iter()
                .any(|&b| matches!(b, b'\n' | b'\r' | b'\t' | 0x7f | 0xc2 | 0xd8 | 0xe2))
            {
                self.scratch.clear();
                one_line_terminal_safe(payload, &mut self.scratch)?;
                out.write_all(&self.scratch)?;
            } else {
                out.write_all(payload)?;
            }
        } else {
            out.write_all(b"null")?;
        }
        out.write_all(b"}\n")
    }

    fn idle(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn disconnected(&mut self, disconnection: &Disconnection<'_>) -> io::Result<()> {
        // Standard output keeps to its two kinds of objects; the summary counts these.
        self.out.flush()?;
        eprintln!(
            "nats-doctor: {}",
            escape::text(&messaging_text::disconnected_line(disconnection))
        );
        Ok(())
    }

    fn reconnected(&mut self, reconnection: &Reconnection<'_>) -> io::Result<()> {
        self.out.flush()?;
        eprintln!(
            "nats-doctor: {}",
            escape::text(&messaging_text::reconnected_line(reconnection))
        );
        Ok(())
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        #[derive(Serialize)]
        struct SummaryDocument<'a> {
            summary: SummaryFields<'a>,
        }
        #[derive(Serialize)]
        struct SummaryFields<'a> {
            received: u64,
            valid: u64,
            invalid: u64,
            by_problem: BTreeMap<&'a str, u64>,
            rate: f64,
            // Present only when something was lost, so that a clean watch prints the
            // same object as ever.
            #[serde(skip_serializing_if = "Option::is_none")]
            disconnections: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            disconnected_seconds: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            slow_consumer: Option<u64>,
        }
        let document = SummaryDocument {
            summary: SummaryFields {
                received: summary.received,
                valid: summary.valid,
                invalid: summary.invalid,
                by_problem: summary
                    .by_problem
                    .iter()
                    .map(|(code, count)| (code.as_str(), *count))
                    .collect(),
                rate: (summary.rate() * 10.0).round() / 10.0,
                disconnections: (summary.disconnections > 0).then_some(summary.disconnections),
                disconnected_seconds: (summary.disconnections > 0)
                    .then(|| (summary.disconnected_for.as_secs_f64() * 1000.0).round() / 1000.0),
                slow_consumer: (summary.slow_consumer > 0).then_some(summary.slow_consumer),
            },
        };
        escape::write_json(&mut self.out, &document, false)?;
        writeln!(self.out)?;
        self.out.flush()?;
        let stderr = io::stderr();
        let mut err = stderr.lock();
        for warning in messaging_text::warnings(summary) {
            writeln!(err, "nats-doctor: warning: {}", escape::text(&warning))?;
        }
        Ok(())
    }
}

/// A JSON document on one line, with the characters [`escape::needs_escape`] names
/// escaped inside its strings (outside them, valid JSON has only spaces, tabs and line
/// breaks, which become spaces).
fn one_line_terminal_safe(payload: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    let Ok(text) = std::str::from_utf8(payload) else {
        // Not reached: the payload parsed as JSON, which is UTF-8.
        out.extend(payload.iter().map(|&b| if b < 0x20 { b' ' } else { b }));
        return Ok(());
    };
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| escape::needs_escape(c)) {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let character = rest[at..].chars().next().unwrap_or(' ');
        if character < ' ' {
            out.push(b' ');
        } else {
            escape::write_json_string_fragment(out, character.encode_utf8(&mut [0u8; 4]))?;
        }
        rest = &rest[at + character.len_utf8()..];
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(())
}

fn write_problems(out: &mut dyn Write, problems: &[Problem]) -> io::Result<()> {
    if problems.is_empty() {
        return out.write_all(b"[]");
    }
    let documents: Vec<ProblemDocument<'_>> = problems
        .iter()
        .map(|problem| ProblemDocument {
            code: problem.code.as_str(),
            message: &problem.message,
        })
        .collect();
    escape::write_json(out, &documents, false)
}
