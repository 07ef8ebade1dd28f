//! The machine-readable formats of `nats-doctor lint` as the binary prints them: SARIF
//! validated against the SARIF 2.1.0 schema (a copy lives in `tests/data/`), GitHub
//! workflow commands kept as snapshots, and snapshots of the JSON and text formats of
//! the fixture examples.

mod support;

use serde_json::Value;
use support::{nats_doctor, Run};

fn lint(args: &[&str]) -> Run {
    nats_doctor(["lint"]).args(args).run()
}

fn sarif(args: &[&str]) -> Value {
    let mut all = vec!["--format", "sarif"];
    all.extend_from_slice(args);
    lint(&all).json()
}

fn assert_valid_sarif(document: &Value) {
    let schema_text =
        std::fs::read_to_string("tests/data/sarif-schema-2.1.0.json").expect("SARIF schema");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

/// Every bad rule fixture, each linted on its own (fixtures of one rule would change
/// what the cross-object rules conclude about another's).
fn bad_fixtures() -> Vec<String> {
    let mut paths = Vec::new();
    for rule_dir in std::fs::read_dir("fixtures/rules").expect("fixtures") {
        let rule_dir = rule_dir.expect("entry").path();
        for fixture in std::fs::read_dir(&rule_dir).expect("rule fixtures") {
            let fixture = fixture.expect("entry").path();
            let name = fixture
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.starts_with("bad") {
                paths.push(fixture.display().to_string());
            }
        }
    }
    paths.sort();
    paths
}

#[test]
fn sarif_validates_against_the_schema_for_every_rule_fixture() {
    let listed = nats_doctor(["rules", "--format", "json"]).run().json();
    let mut codes = std::collections::BTreeSet::new();
    let mut related_labels = Vec::new();
    let mut fields = Vec::new();
    for path in bad_fixtures() {
        let document = sarif(&[&path]);
        assert_valid_sarif(&document);
        let run = &document["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), listed.as_array().expect("list").len());
        assert_eq!(
            run["tool"]["driver"]["version"],
            env!("CARGO_PKG_VERSION"),
            "the driver names its version"
        );
        for rule in rules {
            assert!(rule["fullDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty()));
            assert!(rule["help"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("## Use instead")));
        }
        for result in run["results"].as_array().expect("results") {
            codes.insert(result["ruleId"].as_str().expect("ruleId").to_string());
            let location = &result["locations"][0]["physicalLocation"];
            let uri = location["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(uri.starts_with("fixtures/rules/"), "{uri} is not relative");
            assert!(location["region"]["startLine"].as_u64().is_some());
            assert!(location["region"]["startColumn"].as_u64().is_some());
            if let Some(field) = result["properties"]["field"].as_str() {
                fields.push(field.to_string());
            }
            for related in result["relatedLocations"].as_array().into_iter().flatten() {
                related_labels.push(
                    related["message"]["text"]
                        .as_str()
                        .expect("label")
                        .to_string(),
                );
            }
        }
    }
    for rule in listed.as_array().expect("list") {
        let code = rule["code"].as_str().expect("code");
        assert!(codes.contains(code), "no {code} result in SARIF");
    }
    assert!(related_labels.iter().any(|l| l == "Service defined here"));
    assert!(
        fields.iter().any(|f| f == "spec.servers[0]"),
        "a finding at a custom resource field names it: {fields:?}"
    );
    assert!(related_labels
        .iter()
        .any(|l| l == "pods blocked by this policy"));
}

#[test]
fn the_schema_check_rejects_invalid_sarif() {
    let mut document = sarif(&["fixtures/rules/ND101/bad.yaml"]);
    document["version"] = Value::from("2.0.0");
    let result = std::panic::catch_unwind(|| assert_valid_sarif(&document));
    assert!(result.is_err(), "an invalid version passed the schema");
}

#[test]
fn sarif_stays_valid_with_input_errors_and_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken file.yaml");
    std::fs::write(&broken, "kind: [unclosed\n").expect("write");
    let document = sarif(&[broken.to_str().expect("path"), "fixtures/rules/ND101"]);
    assert_valid_sarif(&document);
    let invocation = &document["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);

    let output = nats_doctor(["lint", "--format", "sarif", "-"])
        .stdin(std::fs::read("fixtures/rules/ND101/bad.yaml").expect("fixture"))
        .run();
    let document = output.json();
    assert_valid_sarif(&document);
}

fn github(path: &str) -> String {
    let output = lint(&["--format", "github", path]);
    output.stdout
}

#[test]
fn github_annotations_for_service_rules() {
    insta::assert_snapshot!("github_ND201", github("fixtures/rules/ND201/bad.yaml"));
    insta::assert_snapshot!("github_ND203", github("fixtures/rules/ND203/bad.yaml"));
}

#[test]
fn github_annotations_for_policy_rules() {
    insta::assert_snapshot!("github_ND401", github("fixtures/rules/ND401/bad.yaml"));
    insta::assert_snapshot!("github_ND403", github("fixtures/rules/ND403/bad.yaml"));
    insta::assert_snapshot!("github_ND404", github("fixtures/rules/ND404/bad.yaml"));
}

#[test]
fn github_annotations_escape_messages_and_properties() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("odd,name:100%.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  NATS_URL: \"http://nats:4222\"\n",
    )
    .expect("write");
    let output = github(file.to_str().expect("path"));
    let shown = output.replace(dir.path().to_str().expect("dir"), "<dir>");
    insta::assert_snapshot!(shown);
}

#[test]
fn json_and_text_formats_of_the_fixture_examples() {
    for format in ["json", "text"] {
        let output = lint(&["--color", "never", "--format", format, "fixtures/examples/"]);
        assert_eq!(output.code, 1, "{}", output.stderr);
        insta::assert_snapshot!(format!("examples_{format}"), output.stdout);
    }
}
