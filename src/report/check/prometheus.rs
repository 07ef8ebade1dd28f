//! `check --format prometheus`: the Prometheus text exposition format (version 0.0.4),
//! for the node-exporter textfile collector. Every metric is a gauge named
//! `nats_doctor_check_*`; a step's status is a state set (one series per status, the
//! current one 1), so that `nats_doctor_check_step_status{status="fail"} == 1` is the
//! alert. Measures a run did not reach are left out rather than written as 0.

use crate::probe::verdict::{Measures, Verdict};
use crate::probe::{CheckReport, Status};
use std::io::{self, Write};
use std::time::Duration;

const PREFIX: &str = "nats_doctor_check_";
const STATUSES: [Status; 4] = [Status::Pass, Status::Warn, Status::Fail, Status::Skip];

/// A label value with `\`, `"` and newlines escaped, as the format requires. The format
/// has no escape for other control characters (the textfile collector rejects any
/// other `\` sequence), so they are written in nats-doctor's escaped form (`\x1b`) with
/// its backslash escaped: the label holds the visible text `\x1b`.
fn label_value(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other if crate::report::escape::needs_escape(other) => {
                let mut buffer = [0u8; 4];
                let visible = crate::report::escape::text(other.encode_utf8(&mut buffer));
                escaped.push_str(&visible.replace('\\', "\\\\"));
            }
            other => escaped.push(other),
        }
    }
    escaped
}

/// A sample value: whole numbers without a decimal point, the rest in Rust's shortest
/// round-trip form (never an exponent), both of which Prometheus parses.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

struct Family<'a> {
    out: &'a mut dyn Write,
}

impl Family<'_> {
    fn header(&mut self, name: &str, help: &str) -> io::Result<()> {
        writeln!(self.out, "# HELP {PREFIX}{name} {help}")?;
        writeln!(self.out, "# TYPE {PREFIX}{name} gauge")
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> io::Result<()> {
        write!(self.out, "{PREFIX}{name}")?;
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(key, value)| format!("{key}=\"{}\"", label_value(value)))
                .collect();
            write!(self.out, "{{{}}}", pairs.join(","))?;
        }
        writeln!(self.out, " {}", number(value))
    }

    fn single(&mut self, name: &str, help: &str, value: f64) -> io::Result<()> {
        self.header(name, help)?;
        self.sample(name, &[], value)
    }
}

fn seconds(duration: Duration) -> f64 {
    // Microseconds are what the steps measure; more digits would be noise.
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000_000.0
}

pub fn write(out: &mut dyn Write, report: &CheckReport, verdict: &Verdict) -> io::Result<()> {
    let measures = Measures::of(report);
    let mut family = Family { out };
    family.header(
        "info",
        "The server list checked (credentials masked); always 1.",
    )?;
    family.sample(
        "info",
        &[
            ("url", &report.masked_url),
            ("version", env!("CARGO_PKG_VERSION")),
        ],
        1.0,
    )?;
    family.single(
        "ok",
        "1 when no step failed (the exit code of --format text would be 0), else 0.",
        if report.ok() { 1.0 } else { 0.0 },
    )?;
    family.single(
        "status_code",
        "Nagios-compatible status with the --connect-*/--rtt-* thresholds: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        f64::from(verdict.status.code()),
    )?;
    family.single(
        "messaging_enabled",
        "1 unless NATS_ENABLED switches messaging off (then nothing is probed).",
        if report.disabled { 0.0 } else { 1.0 },
    )?;
    family.single(
        "duration_seconds",
        "Wall time of the whole check.",
        seconds(report.duration),
    )?;

    family.header(
        "step_status",
        "Status of each step (config, url, dns, tcp, nats, roundtrip): 1 for the current status, 0 for the others.",
    )?;
    for step in report.steps() {
        for status in STATUSES {
            let value = if step.status == status { 1.0 } else { 0.0 };
            family.sample(
                "step_status",
                &[("step", step.name), ("status", status.as_str())],
                value,
            )?;
        }
    }
    family.header(
        "step_duration_seconds",
        "Time each step took (0 for skipped steps).",
    )?;
    for step in report.steps() {
        family.sample(
            "step_duration_seconds",
            &[("step", step.name)],
            seconds(step.duration),
        )?;
    }

    if let Some(connect) = measures.connect {
        family.single(
            "connect_time_seconds",
            "Time to a NATS connection: the dns, tcp and nats steps together.",
            seconds(connect),
        )?;
    }
    if let Some(rtt) = measures.rtt {
        family.single(
            "rtt_seconds",
            "One PING/PONG with the server (the fastest round-trip message when the PING could not be timed alone).",
            seconds(rtt),
        )?;
    }
    let quantiles = [
        ("min", measures.roundtrip_min),
        ("p50", measures.roundtrip_p50),
        ("p99", measures.roundtrip_p99),
        ("max", measures.roundtrip_max),
    ];
    if quantiles.iter().any(|(_, value)| value.is_some()) {
        family.header(
            "roundtrip_rtt_seconds",
            "Publish-to-receive time of the round-trip messages, by statistic.",
        )?;
        for (stat, value) in quantiles {
            if let Some(value) = value {
                family.sample("roundtrip_rtt_seconds", &[("stat", stat)], seconds(value))?;
            }
        }
    }
    if let (Some(sent), Some(received)) = (measures.messages_sent, measures.messages_received) {
        family.header(
            "roundtrip_messages",
            "Messages of the round trip: expected (--count) and received back intact.",
        )?;
        family.sample("roundtrip_messages", &[("result", "expected")], sent as f64)?;
        family.sample(
            "roundtrip_messages",
            &[("result", "received")],
            received as f64,
        )?;
    }
    Ok(())
}
