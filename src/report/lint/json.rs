//! The JSON format: `{"version":1,"findings":[…],"summary":{…}}`. Keys are a contract.

use crate::diagnostic::{Finding, ObjectRef};
use crate::report::lint::Counts;
use crate::rules::LintOutcome;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
    object: Option<&'a ObjectRef>,
    container: Option<&'a str>,
    variable: Option<&'a str>,
    /// The path of the value in its object, for values outside env.
    field: Option<&'a str>,
    help: Option<&'a str>,
    runbook: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    /// Walked files that were not judged, counted by reason.
    skipped: std::collections::BTreeMap<&'static str, usize>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(finding: &'a Finding) -> Self {
        JsonFinding {
            code: finding.code,
            name: finding.name,
            severity: finding.severity.as_str(),
            message: &finding.message,
            file: &finding.location.file,
            line: finding.location.line,
            column: finding.location.column,
            object: finding.object.as_ref(),
            container: finding.container.as_deref(),
            variable: finding.variable.as_deref(),
            field: finding.field.as_deref(),
            help: finding.help.as_deref(),
            runbook: finding.runbook.as_deref(),
        }
    }
}

pub fn write_lint(out: &mut dyn Write, outcome: &LintOutcome) -> io::Result<()> {
    let counts = Counts::of(outcome);
    let document = Document {
        version: 1,
        findings: outcome.findings.iter().map(JsonFinding::from).collect(),
        summary: Summary {
            files: outcome.files,
            objects: outcome.objects,
            errors: counts.errors,
            warnings: counts.warnings,
            infos: counts.infos,
            skipped: crate::report::lint::skipped_counts(outcome)
                .into_iter()
                .map(|(reason, count)| (reason.as_str(), count))
                .collect(),
        },
    };
    crate::report::escape::write_json(&mut *out, &document, true)?;
    writeln!(out)
}
