//! `check --format nagios`: one line in the plugin format `nats server check connection`
//! prints, `STATUS nats-doctor Crit:… Warn:… OK:… | connect_time=0.0012s;0.5000;1.0000
//! rtt=… request_time=…`. The exit code (0/1/2/3) is the verdict's.

use crate::probe::verdict::{PerfItem, Verdict};
use std::io::{self, Write};

/// The plugin name at the start of the line.
pub const NAME: &str = "nats-doctor";

/// Text that cannot break the line: `|` starts the perf data and a newline ends the
/// plugin output, so neither may appear in a message; white space is a space, other
/// control characters are escaped for the terminal.
fn clean(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| match c {
            '|' => '/',
            '\n' | '\r' | '\t' => ' ',
            other => other,
        })
        .collect();
    crate::report::escape::text(&spaced).into_owned()
}

fn perf_item(item: &PerfItem) -> String {
    let value = format!("{}={:.4}s", item.name, item.value.as_secs_f64());
    match item.thresholds {
        Some((warn, critical)) => format!(
            "{value};{:.4};{:.4}",
            warn.as_secs_f64(),
            critical.as_secs_f64()
        ),
        None => value,
    }
}

pub fn write(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    let mut parts = vec![NAME.to_string()];
    parts.extend(
        verdict
            .criticals
            .iter()
            .map(|c| format!("Crit:{}", clean(c))),
    );
    parts.extend(
        verdict
            .warnings
            .iter()
            .map(|w| format!("Warn:{}", clean(w))),
    );
    parts.extend(verdict.oks.iter().map(|o| format!("OK:{}", clean(o))));
    write!(out, "{} {}", verdict.status.as_str(), parts.join(" "))?;
    if !verdict.perf.is_empty() {
        let perf: Vec<String> = verdict.perf.iter().map(perf_item).collect();
        write!(out, " | {}", perf.join(" "))?;
    }
    writeln!(out)
}

/// The line for a check that could not run (a settings file that cannot be read, a
/// bad flag value): UNKNOWN, exit code 3.
pub fn write_unknown(out: &mut dyn Write, error: &str) -> io::Result<()> {
    let error = crate::natsurl::mask_credentials_in_text(error);
    writeln!(out, "UNKNOWN {NAME} {}", clean(&error))
}
