//! `nats-doctor rules` and `nats-doctor explain`.

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

/// `rules --format json`: `[{"code","name","severity","summary"}]`.
pub fn write_list_json(out: &mut dyn Write) -> io::Result<()> {
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

/// `rules`: one line per rule, in the order of the registry.
pub fn write_list_text(out: &mut dyn Write) -> io::Result<()> {
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

pub fn write_explanation(out: &mut dyn Write, rule: &Rule) -> io::Result<()> {
    writeln!(out, "# {} {} ({})", rule.code, rule.name, rule.severity)?;
    writeln!(out)?;
    writeln!(out, "{}", rule.documentation().trim_end())
}
