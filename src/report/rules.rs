//! `nats-doctor rules` and `nats-doctor explain`.

use crate::cli::ListFormat;
use crate::rules::{Rule, RULES};
use colored::Colorize;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct RuleEntry {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    summary: &'static str,
}

pub fn write_list(out: &mut dyn Write, format: ListFormat) -> io::Result<()> {
    match format {
        ListFormat::Json => {
            let entries: Vec<RuleEntry> = RULES
                .iter()
                .map(|rule| RuleEntry {
                    code: rule.code,
                    name: rule.name,
                    severity: rule.severity.as_str(),
                    summary: rule.summary,
                })
                .collect();
            crate::report::escape::write_json(&mut *out, &entries, true)?;
            writeln!(out)
        }
        ListFormat::Text => {
            let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for rule in RULES {
                writeln!(
                    out,
                    "{}  {:<width$}  {:<7}  {}",
                    rule.code.bold(),
                    rule.name,
                    rule.severity.as_str(),
                    rule.summary
                )?;
            }
            Ok(())
        }
    }
}

pub fn write_explanation(out: &mut dyn Write, rule: &Rule) -> io::Result<()> {
    writeln!(out, "# {} {} ({})", rule.code, rule.name, rule.severity)?;
    writeln!(out)?;
    writeln!(out, "{}", rule.documentation().trim_end())
}
