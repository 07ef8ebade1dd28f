//! SARIF 2.1.0, as GitHub code scanning reads it: every rule in `tool.driver.rules` with
//! its documentation, one result per finding with a relative artifact URI, a region
//! (1-based line and column, counted in characters) and the second places of the
//! finding as related locations. Input errors become tool execution notifications.

use crate::diagnostic::{Finding, Location, Severity};
use crate::rules::LintOutcome;
use crate::rules::{Rule, RULES};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::{Component, Path};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The first paragraph under `## What it does`: the rule's full description.
fn what_it_does(rule: &Rule) -> String {
    let documentation = rule.documentation();
    let body = documentation
        .split("## What it does")
        .nth(1)
        .unwrap_or_default();
    let section = body.split("\n## ").next().unwrap_or_default();
    let paragraph = section.trim().split("\n\n").next().unwrap_or_default();
    paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rule_descriptor(rule: &Rule) -> Value {
    let documentation = rule.documentation();
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what_it_does(rule)},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {"tags": ["nats", "kubernetes"]},
    })
}

/// A file name as a URI reference: relative paths stay relative (with `/` separators),
/// absolute paths become `file://` URIs, and the pseudo-files (`<stdin>`) get a name
/// without characters a URI cannot hold.
fn artifact_uri(file: &str) -> String {
    let path = Path::new(file);
    if path.is_absolute() {
        let current = std::env::current_dir().ok();
        if let Some(relative) = current
            .as_deref()
            .and_then(|dir| path.strip_prefix(dir).ok())
        {
            return encode_path(relative);
        }
        return format!("file://{}", encode_path(path));
    }
    encode_path(path)
}

fn encode_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|component| match component {
            Component::RootDir => Some(String::new()),
            Component::CurDir => None,
            Component::Normal(part) => Some(percent_encode(&part.to_string_lossy())),
            Component::ParentDir => Some("..".to_string()),
            Component::Prefix(prefix) => {
                Some(percent_encode(&prefix.as_os_str().to_string_lossy()))
            }
        })
        .collect();
    parts.join("/")
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn physical_location(location: &Location, width: Option<u32>) -> Value {
    let mut region = json!({
        "startLine": location.line.max(1),
        "startColumn": location.column.max(1),
    });
    if let Some(width) = width {
        region["endColumn"] = json!(location.column.max(1) + width.max(1));
    }
    json!({
        "artifactLocation": {"uri": artifact_uri(&location.file)},
        "region": region,
    })
}

fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let mut text = finding.message.clone();
    if let Some(help) = &finding.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    if let Some(runbook) = &finding.runbook {
        text.push_str("\nrunbook: ");
        text.push_str(runbook);
    }
    let mut value = json!({
        "ruleId": finding.code,
        "level": level(finding.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical_location(&finding.location, Some(finding.width))}],
    });
    if let Some(index) = rule_index {
        value["ruleIndex"] = json!(index);
    }
    if let Some(object) = &finding.object {
        let mut fully_qualified = object.kind.clone();
        if let Some(namespace) = &object.namespace {
            fully_qualified.push('/');
            fully_qualified.push_str(namespace);
        }
        fully_qualified.push('/');
        fully_qualified.push_str(&object.name);
        value["locations"][0]["logicalLocations"] = json!([{
            "name": object.name,
            "fullyQualifiedName": fully_qualified,
            "kind": "object",
        }]);
    }
    if let Some(field) = &finding.field {
        value["properties"] = json!({"field": field});
    }
    if !finding.related.is_empty() {
        let related: Vec<Value> = finding
            .related
            .iter()
            .enumerate()
            .map(|(id, related)| {
                json!({
                    "id": id,
                    "physicalLocation": physical_location(&related.location, None),
                    "message": {"text": related.label},
                })
            })
            .collect();
        value["relatedLocations"] = json!(related);
    }
    value
}

pub fn write_lint(out: &mut dyn Write, outcome: &LintOutcome) -> io::Result<()> {
    let rules: Vec<Value> = RULES.iter().map(|rule| rule_descriptor(rule)).collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|finding| {
            let index = RULES.iter().position(|rule| rule.code == finding.code);
            result(finding, index)
        })
        .collect();
    let notifications: Vec<Value> = outcome
        .errors
        .iter()
        .map(|error| {
            let mut notification = json!({
                "level": "error",
                "message": {"text": crate::natsurl::mask_credentials_in_text(&error.message)},
            });
            if let Some(line) = error.line {
                let location = Location {
                    file: error.file.clone(),
                    line,
                    column: error.column.unwrap_or(1),
                };
                notification["locations"] =
                    json!([{"physicalLocation": physical_location(&location, None)}]);
            } else {
                notification["locations"] = json!([{
                    "physicalLocation": {"artifactLocation": {"uri": artifact_uri(&error.file)}}
                }]);
            }
            notification
        })
        .collect();
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "nats-doctor",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": outcome.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    crate::report::escape::write_json(&mut *out, &document, true)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(artifact_uri("./fixtures/a b.yaml"), "fixtures/a%20b.yaml");
        assert_eq!(artifact_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(artifact_uri("/etc/k8s/x.yaml"), "file:///etc/k8s/x.yaml");
    }

    #[test]
    fn full_description_is_the_first_paragraph() {
        let rule = RULES[0];
        let text = what_it_does(rule);
        assert!(text.starts_with("Flags"), "{text}");
        assert!(!text.contains("##"));
    }
}
