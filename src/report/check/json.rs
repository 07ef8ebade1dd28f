//! `check --format json`: `{"version":1,"ok","url","steps":[{"name","status",
//! "duration_ms","summary","detail"}],"runbook":[{"title","commands"}]}`. Each step's
//! `detail` is its own detail type, serialized. Keys are written in sorted order, as
//! they always have been: the document is built as a `serde_json::Value`, whose maps
//! keep their keys sorted.

use crate::probe::{millis, CheckReport, StepOutcome};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::{self, Write};

fn step<D: Serialize>(step: &StepOutcome<D>) -> serde_json::Result<Value> {
    Ok(json!({
        "name": step.name,
        "status": step.status.as_str(),
        "duration_ms": millis(step.duration),
        "summary": step.summary,
        "detail": serde_json::to_value(&step.detail)?,
    }))
}

pub fn write(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    let steps = [
        step(&report.config),
        step(&report.url),
        step(&report.dns),
        step(&report.tcp),
        step(&report.nats),
        step(&report.roundtrip),
    ]
    .into_iter()
    .collect::<serde_json::Result<Vec<Value>>>()?;
    let value = json!({
        "version": 1,
        "ok": report.ok(),
        "url": report.masked_url,
        "steps": steps,
        "runbook": report.runbook,
    });
    crate::report::escape::write_json(&mut *out, &value, true)?;
    writeln!(out)
}
