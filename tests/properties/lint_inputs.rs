//! The whole lint path (`rules::run`, then every report format) over generated inputs:
//! Kubernetes YAML, JSON, compose, `.env` and UTF-16 files with hostile names and
//! values, well formed or broken by a few edits, walked as a directory and named one by
//! one. Nothing panics; every input error and every finding is at a place inside its
//! file; the text report holds no control character but its own line feeds (and with
//! colours off, no escape sequence at all), also as `nats-doctor --color never lint -v`
//! prints it on standard output and error; the JSON and SARIF reports are JSON.

use crate::strategies::{
    apply, config, double_quoted, edit, hostile_string, inside, is_terminal_control, shown_lines,
    Edit,
};
use nats_doctor::cli::LintFormat;
use nats_doctor::lint::context::LintOptions;
use nats_doctor::manifest::{decode, LoadOptions};
use nats_doctor::report;
use nats_doctor::rules::{self, LintOutcome, Selection};
use proptest::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The names and values a generated input is made of.
#[derive(Clone, Debug)]
struct Parts {
    /// Object, service and container names.
    names: Vec<String>,
    /// Environment variables: a name and a value.
    variables: Vec<(String, String)>,
    /// How the inputs are broken afterwards (none: well formed).
    edits: Vec<Edit>,
    /// Part of a file name.
    file_name: String,
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_string(24),
        prop::sample::select(
            &[
                "nats://10.1.2.3:4222",
                "nats://nats-server.nats:8222",
                "nats://localhost:4222",
                "http://nats:4222",
                "nats://u:p@nats:4222",
                "nats://a,,nats://b",
                "yes",
                "$(UNDEFINED)",
                "true",
                "binance.extraction",
                "",
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

fn variable_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "NATS_URL",
                "NATS_ENABLED",
                "NATS_SUBJECT_PREFIX",
                "NATS_PASSWORD",
                "NATS_SERVERS"
            ][..]
        )
        .prop_map(str::to_string),
        hostile_string(10),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        prop::collection::vec(hostile_string(16), 1..4),
        prop::collection::vec((variable_name(), value()), 0..6),
        prop::collection::vec(edit(), 0..3),
        hostile_string(8),
    )
        .prop_map(|(names, variables, edits, file_name)| Parts {
            names,
            variables,
            edits,
            file_name,
        })
}

fn kubernetes_yaml(parts: &Parts) -> String {
    let name = |index: usize| double_quoted(&parts.names[index % parts.names.len()]);
    let mut out = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: apps\ndata:\n",
        name(0)
    );
    for (key, value) in &parts.variables {
        out.push_str(&format!(
            "  {}: {}\n",
            double_quoted(key),
            double_quoted(value)
        ));
    }
    out.push_str(&format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n      - name: {}\n        envFrom:\n        - configMapRef:\n            name: {}\n        env:\n",
        name(1),
        name(2),
        name(0)
    ));
    for (key, value) in &parts.variables {
        out.push_str(&format!(
            "        - name: {}\n          value: {}\n",
            double_quoted(key),
            double_quoted(value)
        ));
    }
    out.push_str("        - name: NATS_URL\n          valueFrom:\n            configMapKeyRef:\n");
    out.push_str(&format!(
        "              name: {}\n              key: NATS_URL\n",
        name(0)
    ));
    out
}

fn kubernetes_json(parts: &Parts) -> String {
    let data: serde_json::Map<String, serde_json::Value> = parts
        .variables
        .iter()
        .map(|(key, value)| (key.clone(), serde_json::Value::from(value.clone())))
        .collect();
    let env: Vec<serde_json::Value> = parts
        .variables
        .iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect();
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": parts.names[0], "namespace": "apps"}, "data": data},
            {"apiVersion": "batch/v1", "kind": "CronJob",
             "metadata": {"name": parts.names[parts.names.len() - 1]},
             "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
                {"name": parts.names[0], "env": env}
             ]}}}}}}
        ]
    });
    // serde_json writes DEL, the C1 controls, U+FFFE/U+FFFF and the line and paragraph
    // separators raw; the YAML reader refuses the first in JSON as in YAML, and breaks
    // lines at the others (NEL, LS, PS), so that a key holding one spans two lines
    // (kubectl's JSON decoder takes them all): escaped here, so that a well-formed file
    // reads.
    serde_json::to_string_pretty(&list)
        .unwrap_or_default()
        .chars()
        .map(|c| match u32::from(c) {
            0x7f..=0x9f | 0x2028 | 0x2029 | 0xfffe | 0xffff => format!("\\u{:04x}", u32::from(c)),
            _ => c.to_string(),
        })
        .collect()
}

fn compose(parts: &Parts) -> String {
    let mut out = String::from("services:\n");
    for (index, name) in parts.names.iter().enumerate() {
        out.push_str(&format!(
            "  {}:\n    image: app\n    environment:\n",
            double_quoted(name)
        ));
        for (key, value) in &parts.variables {
            if index % 2 == 0 {
                out.push_str(&format!(
                    "      {}: {}\n",
                    double_quoted(key),
                    double_quoted(value)
                ));
            } else {
                out.push_str(&format!(
                    "      - {}\n",
                    double_quoted(&format!("{key}={value}"))
                ));
            }
        }
    }
    out
}

fn env_file(parts: &Parts) -> String {
    let mut out = String::from("# generated\n");
    let names = |key: &&(String, String)| {
        !key.0.is_empty()
            && key
                .0
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    for (index, (key, value)) in parts.variables.iter().filter(names).enumerate() {
        let value: String = value
            .chars()
            .filter(|c| !matches!(c, '\n' | '\0'))
            .collect();
        match index % 3 {
            0 => out.push_str(&format!("{key}={value}\n")),
            1 => out.push_str(&format!("export {key}='{value}'\n")),
            _ => out.push_str(&format!("{key}=\"{}\"\n", value.replace('"', "\\\""))),
        }
    }
    out
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

/// Writes the generated inputs; returns their paths.
fn write_inputs(dir: &Path, parts: &Parts) -> Vec<PathBuf> {
    let broken = |text: String| apply(&text, &parts.edits);
    let safe_name: String = parts
        .file_name
        .chars()
        .filter(|c| *c != '/' && *c != '\0')
        .collect();
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            format!("k8s-{safe_name}.yaml"),
            broken(kubernetes_yaml(parts)).into_bytes(),
        ),
        (
            "list.json".to_string(),
            broken(kubernetes_json(parts)).into_bytes(),
        ),
        (
            "compose.yaml".to_string(),
            broken(compose(parts)).into_bytes(),
        ),
        (".env".to_string(), broken(env_file(parts)).into_bytes()),
        (
            "utf16le.yaml".to_string(),
            utf16(&broken(kubernetes_yaml(parts)), false),
        ),
        (
            "utf16be.yaml".to_string(),
            utf16(&broken(compose(parts)), true),
        ),
    ];
    files
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("write an input");
            path
        })
        .collect()
}

fn lint_paths(paths: &[PathBuf]) -> LintOutcome {
    let options = LintOptions::default();
    let load = LoadOptions::default();
    rules::run(paths, false, &options, &load, &Selection::all())
}

/// Every place the outcome names is inside its file (as decoded).
fn check_places(
    outcome: &LintOutcome,
    texts: &HashMap<String, String>,
) -> Result<(), TestCaseError> {
    let lines_of = |file: &str| texts.get(file).map(|text| shown_lines(text));
    for error in &outcome.errors {
        prop_assert!(
            error.line.is_some() && error.column.is_some(),
            "an input error without a place: {error:?}"
        );
        if let (Some(line), Some(column), Some(lines)) =
            (error.line, error.column, lines_of(&error.file))
        {
            prop_assert!(
                inside(&lines, line, column),
                "input error outside its file: {error:?}"
            );
        }
    }
    for finding in &outcome.findings {
        let lines = lines_of(&finding.location.file);
        prop_assert!(lines.is_some(), "a finding in an unknown file: {finding:?}");
        let lines = lines.unwrap_or_default();
        let location = &finding.location;
        prop_assert!(
            inside(&lines, location.line, location.column),
            "finding outside its file ({} lines): {finding:?}",
            lines.len()
        );
        for related in &finding.related {
            if let Some(lines) = lines_of(&related.location.file) {
                prop_assert!(
                    inside(&lines, related.location.line, related.location.column),
                    "related place outside its file: {related:?}"
                );
            }
        }
    }
    Ok(())
}

/// The text report and the input errors as the user sees them, colours off.
fn text_report(outcome: &LintOutcome) -> String {
    let mut out = Vec::new();
    for error in &outcome.errors {
        report::lint::text::write_input_error(&mut out, error).expect("write");
    }
    for note in &outcome.notes {
        report::lint::text::write_note(&mut out, note).expect("write");
    }
    for skipped in &outcome.skipped {
        report::lint::text::write_skipped(&mut out, skipped).expect("write");
    }
    report::lint::text::write_lint(&mut out, outcome, false).expect("write the text report");
    String::from_utf8(out).expect("the text report is UTF-8")
}

fn check_reports(outcome: &LintOutcome) -> Result<(), TestCaseError> {
    let text = text_report(outcome);
    let raw = text.chars().find(|c| *c != '\n' && is_terminal_control(*c));
    prop_assert!(raw.is_none(), "raw {raw:?} in the text report:\n{text}");
    for format in [LintFormat::Json, LintFormat::Sarif, LintFormat::Github] {
        let mut out = Vec::new();
        match format {
            LintFormat::Json => report::lint::json::write_lint(&mut out, outcome),
            LintFormat::Sarif => report::lint::sarif::write_lint(&mut out, outcome),
            _ => report::lint::github::write_lint(&mut out, outcome),
        }
        .expect("write a report");
        let written = String::from_utf8(out).expect("a report is UTF-8");
        let raw = written
            .chars()
            .find(|c| *c != '\n' && is_terminal_control(*c));
        prop_assert!(
            raw.is_none(),
            "raw {raw:?} in the {format:?} report:\n{written}"
        );
        if !matches!(format, LintFormat::Github) {
            prop_assert!(
                serde_json::from_str::<serde_json::Value>(&written).is_ok(),
                "the {format:?} report is not JSON:\n{written}"
            );
        }
    }
    Ok(())
}

/// `nats-doctor --color never lint -v PATH…`, standard output and error: no control
/// character but line feeds, so no escape sequence at all.
fn check_binary(paths: &[PathBuf]) -> Result<(), TestCaseError> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nats-doctor"))
        .args(["--color", "never", "lint", "-v"])
        .args(paths)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run nats-doctor lint");
    prop_assert!(matches!(output.status.code(), Some(0..=2)), "{output:?}");
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let raw = text.chars().find(|c| *c != '\n' && is_terminal_control(*c));
        prop_assert!(raw.is_none(), "raw {raw:?} on {stream}:\n{text}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn generated_inputs_are_linted_with_every_place_inside_them(parts in parts()) {
        colored::control::set_override(false);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let paths = write_inputs(dir.path(), &parts);
        let texts: HashMap<String, String> = paths
            .iter()
            .filter_map(|path| {
                let text = decode::decode(std::fs::read(path).ok()?).ok()?;
                Some((path.display().to_string(), text))
            })
            .collect();
        let walked = lint_paths(&[dir.path().to_path_buf()]);
        check_places(&walked, &texts)?;
        check_reports(&walked)?;
        let named = lint_paths(&paths);
        check_places(&named, &texts)?;
        check_reports(&named)?;
        check_binary(&[dir.path().to_path_buf()])?;
        if parts.edits.is_empty() {
            prop_assert!(
                named.errors.is_empty(),
                "well-formed inputs gave input errors: {:?}",
                named.errors
            );
        }
    }
}
