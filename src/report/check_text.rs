//! `check` for people: one line per step (status, name, duration, what it found), the
//! names DNS tried, the verdict, then the runbook commands for what failed or warned.
//! Every value from the settings, DNS or a server is escaped for the terminal.

use crate::probe::{millis, CheckReport, Outcome, Status};
use crate::report::escape;
use colored::{ColoredString, Colorize};
use serde_json::Value;
use std::io::{self, Write};

fn label(status: Status) -> ColoredString {
    match status {
        Status::Pass => "PASS".green().bold(),
        Status::Warn => "WARN".yellow().bold(),
        Status::Fail => "FAIL".red().bold(),
        Status::Skip => "SKIP".dimmed(),
    }
}

pub fn write(out: &mut dyn Write, report: &CheckReport, quiet: bool) -> io::Result<()> {
    if !quiet {
        writeln!(
            out,
            "nats-doctor check {}",
            escape::text(&report.url).bold()
        )?;
    }
    for step in &report.steps {
        let shown = !quiet || matches!(step.status, Status::Fail | Status::Warn);
        if !shown {
            continue;
        }
        writeln!(
            out,
            "{} {:<9} {:>9}  {}",
            label(step.status),
            step.name,
            format!("{:.1} ms", millis(step.duration)),
            escape::text(&step.summary)
        )?;
        if step.name == "dns" && step.status != Status::Skip {
            write_dns_tries(out, step)?;
        }
    }
    let failed = report.steps.iter().find(|s| s.status == Status::Fail);
    if report.disabled {
        writeln!(out, "{}", "messaging is disabled; nothing to check".bold())?;
    } else if !quiet {
        let verdict = match failed {
            Some(step) => format!("FAIL at {}", step.name).red().bold(),
            None if report.steps.iter().any(|s| s.status == Status::Warn) => {
                "OK with warnings".yellow().bold()
            }
            None => "OK: this service reaches NATS".green().bold(),
        };
        writeln!(out, "{verdict} ({:.1} ms)", millis(report.duration))?;
    }
    if !report.runbook.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            "Runbook (docs/NATS_MESSAGING.md, Troubleshooting):".bold()
        )?;
        for entry in &report.runbook {
            writeln!(out, "  {}", escape::text(&entry.title).bold())?;
            for command in &entry.commands {
                let command = escape::text(command);
                if command.starts_with('#') {
                    writeln!(out, "    {command}")?;
                } else {
                    writeln!(out, "    $ {command}")?;
                }
            }
        }
    }
    Ok(())
}

/// The names tried for each host, as a pod tries them.
fn write_dns_tries(out: &mut dyn Write, step: &Outcome) -> io::Result<()> {
    let Some(hosts) = step.detail.get("hosts").and_then(Value::as_array) else {
        return Ok(());
    };
    if let Some(resolver) = step.detail.get("resolver") {
        let list = |key: &str| {
            resolver
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        writeln!(
            out,
            "               resolv.conf {}: nameservers {}, search {}, ndots {}",
            escape::text(
                resolver
                    .get("resolv_conf")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ),
            escape::text(&list("nameservers")),
            escape::text(&list("search")),
            resolver.get("ndots").and_then(Value::as_u64).unwrap_or(0)
        )?;
    }
    for host in hosts {
        let Some(candidates) = host.get("candidates").and_then(Value::as_array) else {
            continue;
        };
        for candidate in candidates {
            let name = escape::text(candidate.get("name").and_then(Value::as_str).unwrap_or("?"));
            let result = candidate
                .get("result")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let records = candidate
                .get("records")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let records = escape::text(&records);
            let result = match result {
                "answered" => result.green(),
                // Response codes, spelt as DNS tools print them.
                "nxdomain" | "nodata" | "servfail" | "refused" | "notimp" | "formerr" => {
                    result.to_uppercase().yellow()
                }
                _ => escape::text(result).yellow(),
            };
            if records.is_empty() {
                writeln!(out, "               {name} {result}")?;
            } else {
                writeln!(out, "               {name} {result}: {records}")?;
            }
        }
    }
    Ok(())
}
