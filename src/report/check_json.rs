//! `check --format json`: `{"version":1,"ok","url","steps":[{"name","status",
//! "duration_ms","summary","detail"}],"runbook":[{"title","commands"}]}`.

use crate::probe::{millis, CheckReport};
use serde_json::json;
use std::io::{self, Write};

pub fn write(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    let value = json!({
        "version": 1,
        "ok": report.ok(),
        "url": report.url,
        "steps": report.steps.iter().map(|step| json!({
            "name": step.name,
            "status": step.status.as_str(),
            "duration_ms": millis(step.duration),
            "summary": step.summary,
            "detail": step.detail,
        })).collect::<Vec<_>>(),
        "runbook": report.runbook,
    });
    crate::report::escape::write_json(&mut *out, &value, true)?;
    writeln!(out)
}
