//! Every rule against its fixtures: `fixtures/rules/<CODE>/bad*` must produce exactly the
//! findings marked in them, `good*` none. A marker is a comment line under the offending
//! line with a caret at the column and the code (`#     ^ ND101`). The text report of
//! every bad fixture is kept as a snapshot.

use nats_doctor::diagnostic::Finding;
use nats_doctor::lint::context::LintOptions;
use nats_doctor::rules::{self, Rule, Selection, RULES};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

type Mark = (String, u32, u32, String);

/// Markers in a fixture file or in every file of a fixture directory.
fn markers(path: &Path) -> BTreeSet<Mark> {
    let mut files = vec![path.to_path_buf()];
    if path.is_dir() {
        files = std::fs::read_dir(path)
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .collect();
    }
    let mut marks = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture text");
        let mut last_code_line = 0;
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let marker = trimmed
                .strip_prefix('#')
                .map(str::trim_start)
                .and_then(|rest| rest.strip_prefix('^'));
            match marker {
                Some(rest) => {
                    let column = line.find('^').expect("caret") + 1;
                    for code in rest.split_whitespace() {
                        marks.insert((
                            file.display().to_string(),
                            last_code_line,
                            column as u32,
                            code.to_string(),
                        ));
                    }
                }
                None => last_code_line = index as u32 + 1,
            }
        }
    }
    marks
}

fn lint_fixture(path: &Path, rule: &'static Rule) -> rules::LintOutcome {
    let options = LintOptions {
        url_vars: vec!["EVENTS_NATS_SERVERS".to_string()],
        ..LintOptions::default()
    };
    let selection = Selection { rules: vec![rule] };
    // Objects without a namespace are the group, as without `--namespace`.
    let load = nats_doctor::manifest::LoadOptions::default();
    rules::run(&[path.to_path_buf()], false, &options, &load, &selection)
}

fn found(findings: &[Finding]) -> BTreeSet<Mark> {
    findings
        .iter()
        .map(|f| {
            (
                f.location.file.to_string(),
                f.location.line,
                f.location.column,
                f.code.to_string(),
            )
        })
        .collect()
}

fn fixtures(code: &str) -> Vec<PathBuf> {
    let dir = Path::new("fixtures/rules").join(code);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|_| panic!("{code} has no fixture directory {}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_rule_fires_exactly_where_its_bad_fixtures_say_and_nowhere_in_good_ones() {
    colored::control::set_override(false);
    let mut failures = Vec::new();
    for rule in RULES {
        let paths = fixtures(rule.code);
        let name = |p: &PathBuf| {
            p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string()
        };
        let bad: Vec<&PathBuf> = paths
            .iter()
            .filter(|p| name(p).starts_with("bad"))
            .collect();
        let good: Vec<&PathBuf> = paths
            .iter()
            .filter(|p| name(p).starts_with("good"))
            .collect();
        if bad.is_empty() || good.is_empty() {
            failures.push(format!(
                "{}: needs at least one bad and one good fixture",
                rule.code
            ));
        }
        for path in bad {
            let expected = markers(path);
            if expected.is_empty() {
                failures.push(format!(
                    "{}: {} marks no finding",
                    rule.code,
                    path.display()
                ));
            }
            let outcome = lint_fixture(path, rule);
            if !outcome.errors.is_empty() {
                failures.push(format!(
                    "{}: {} has input errors: {:?}",
                    rule.code,
                    path.display(),
                    outcome.errors
                ));
            }
            let actual = found(&outcome.findings);
            if actual != expected {
                failures.push(format!(
                    "{}: {}\n  expected {:?}\n  found    {:?}",
                    rule.code,
                    path.display(),
                    expected,
                    actual
                ));
            }
            let mut text = Vec::new();
            nats_doctor::report::lint::text::write_lint(&mut text, &outcome, true).expect("report");
            let snapshot = format!("{}__{}", rule.code, name(path).trim_end_matches(".yaml"));
            insta::assert_snapshot!(snapshot, String::from_utf8(text).expect("utf-8"));
        }
        for path in good {
            let outcome = lint_fixture(path, rule);
            if !outcome.findings.is_empty() || !outcome.errors.is_empty() {
                failures.push(format!(
                    "{}: good fixture {} has {:?} {:?}",
                    rule.code,
                    path.display(),
                    found(&outcome.findings),
                    outcome.errors
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
