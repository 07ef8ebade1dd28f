//! `check` for people: one line per step (status, name, duration, what it found), the
//! names DNS tried, the verdict, then the runbook commands for what failed or warned.
//! Every value from the settings, DNS or a server is escaped for the terminal.

use crate::probe::dns::DnsDetail;
use crate::probe::{millis, CheckReport, Status};
use crate::report::escape;
use colored::{ColoredString, Colorize};
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
            escape::text(&report.masked_url).bold()
        )?;
    }
    let steps = report.steps();
    for step in steps {
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
            escape::text(step.summary)
        )?;
        if step.name == report.dns.name && step.status != Status::Skip {
            if let Some(dns) = report.dns.detail.found() {
                write_dns_tries(out, dns)?;
            }
        }
    }
    let failed = steps.iter().find(|s| s.status == Status::Fail);
    if report.disabled {
        writeln!(out, "{}", "messaging is disabled; nothing to check".bold())?;
    } else if !quiet {
        let verdict = match failed {
            Some(step) => format!("FAIL at {}", step.name).red().bold(),
            None if steps.iter().any(|s| s.status == Status::Warn) => {
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
fn write_dns_tries(out: &mut dyn Write, dns: &DnsDetail) -> io::Result<()> {
    let DnsDetail::Resolved {
        resolver, hosts, ..
    } = dns
    else {
        return Ok(());
    };
    writeln!(
        out,
        "               resolv.conf {}: nameservers {}, search {}, ndots {}",
        escape::text(&resolver.resolv_conf),
        escape::text(&resolver.nameservers.join(" ")),
        escape::text(&resolver.search.join(" ")),
        resolver.ndots
    )?;
    for host in hosts {
        for candidate in &host.candidates {
            let name = escape::text(&candidate.name);
            let records = candidate.records.join(", ");
            let records = escape::text(&records);
            let result = candidate.result.name();
            let result = if candidate.result == crate::probe::dns::Answer::Answered {
                result.green()
            } else if candidate.result.is_response_code() {
                // Response codes, spelt as DNS tools print them.
                result.to_uppercase().yellow()
            } else {
                escape::text(result).yellow()
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
