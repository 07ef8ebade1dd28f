//! `nats-doctor lint` as a user runs it: inputs of every kind, bad inputs, output
//! formats, exit codes, suppression and secrets.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::run::findings as codes_at;
use support::{nats_doctor, Run};

fn run(args: &[&str]) -> Run {
    nats_doctor(args).run()
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    nats_doctor(args).stdin(stdin).run()
}

fn json(args: &[&str]) -> (Value, Run) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    let output = run(&all);
    (output.json(), output)
}

#[test]
fn json_output_has_exactly_the_documented_keys() {
    let (report, output) = json(&["fixtures/examples/"]);
    assert_eq!(output.code, 1);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&report), ["findings", "summary", "version"]);
    assert_eq!(report["version"], 1);
    assert_eq!(
        keys(&report["summary"]),
        ["errors", "files", "infos", "objects", "skipped", "warnings"]
    );
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["objects"], 4);
    let finding = &report["findings"][0];
    assert_eq!(
        keys(finding),
        [
            "code",
            "column",
            "container",
            "field",
            "file",
            "help",
            "line",
            "message",
            "name",
            "object",
            "runbook",
            "severity",
            "variable"
        ]
    );
    assert_eq!(finding["code"], "ND101");
    assert_eq!(finding["name"], "url-ip-literal");
    assert_eq!(finding["object"]["kind"], "ConfigMap");
    assert_eq!(finding["object"]["namespace"], "petrosa-apps");
    assert_eq!(finding["object"]["name"], "petrosa-common-config");
}

#[test]
fn reads_crlf_bom_json_lists_and_stdin() {
    let (report, _) = json(&[
        "fixtures/inputs/crlf.yaml",
        "fixtures/inputs/bom.yaml",
        "fixtures/inputs/list.json",
    ]);
    assert_eq!(
        codes_at(&report),
        [
            ("ND101".into(), "fixtures/inputs/bom.yaml".into(), 7, 13),
            ("ND101".into(), "fixtures/inputs/crlf.yaml".into(), 7, 13),
            ("ND101".into(), "fixtures/inputs/list.json".into(), 9, 28),
        ]
    );
    let text = std::fs::read("fixtures/inputs/crlf.yaml").expect("fixture");
    let output = run_with_stdin(&["lint", "--format", "json", "-"], &text);
    let report: Value = output.json();
    assert_eq!(
        codes_at(&report),
        [("ND101".into(), "<stdin>".into(), 7, 13)]
    );
    // Text output shows the stdin line it points at.
    let output = run_with_stdin(&["lint", "-"], &text);
    let shown = output.stdout.as_str();
    assert!(
        shown.contains("7 |   NATS_URL: \"nats://10.0.0.1:4222\""),
        "{shown}"
    );
}

#[test]
fn reads_compose_files_with_env_files_and_walks_directories() {
    let (report, output) = json(&["fixtures/inputs/compose"]);
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    let found = codes_at(&report);
    assert!(
        found.contains(&(
            "ND101".into(),
            "fixtures/inputs/compose/docker-compose.yml".into(),
            11,
            17
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "ND102".into(),
            "fixtures/inputs/compose/extractor.env".into(),
            2,
            17
        )),
        "{found:?}"
    );
    // `${PREFIX}` is interpolated by compose: unknown here, so not judged.
    assert!(
        !found.iter().any(|f| f.0 == "ND304" || f.0 == "ND305"),
        "{found:?}"
    );

    let (report, _) = json(&["fixtures/inputs/tree"]);
    assert_eq!(
        codes_at(&report),
        [(
            "ND102".into(),
            "fixtures/inputs/tree/apps/sub/deploy.yml".into(),
            14,
            18
        )]
    );
    assert_eq!(report["summary"]["files"], 1, "README.md is not read");
}

#[test]
fn lints_the_process_environment() {
    let output = nats_doctor([
        "lint",
        "--format",
        "json",
        "--env",
        "fixtures/inputs/empty.yaml",
    ])
    .env("NATS_URL", "nats://172.20.0.5:4222")
    .env("NATS_ENABLED", "enabled")
    .run();
    let report: Value = output.json();
    let codes: Vec<String> = codes_at(&report).into_iter().map(|f| f.0).collect();
    assert!(codes.contains(&"ND101".to_string()), "{codes:?}");
    assert!(codes.contains(&"ND302".to_string()), "{codes:?}");
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "ND101")
        .expect("ND101");
    assert_eq!(finding["file"], "<environment>");
    assert_eq!(finding["variable"], "NATS_URL");
}

#[test]
fn bad_inputs_are_reported_with_their_location_and_the_rest_is_linted() {
    let output = run(&[
        "lint",
        "--format",
        "json",
        "fixtures/inputs/malformed.yaml",
        "fixtures/inputs/helm-template.yaml",
        "fixtures/inputs/latin1.yaml",
        "fixtures/inputs/does-not-exist.yaml",
        "fixtures/inputs/crlf.yaml",
    ]);
    assert_eq!(output.code, 2);
    let errors = output.stderr.clone();
    assert!(
        errors.contains(
            "fixtures/inputs/malformed.yaml:7:18: invalid YAML: did not find expected key"
        ),
        "{errors}"
    );
    assert!(
        errors.contains("fixtures/inputs/helm-template.yaml:4:9: unrendered template"),
        "{errors}"
    );
    assert!(errors.contains("helm template"), "{errors}");
    assert!(
        errors.contains("fixtures/inputs/latin1.yaml:6:13: not UTF-8"),
        "{errors}"
    );
    assert!(
        errors.contains("fixtures/inputs/does-not-exist.yaml: no such file"),
        "{errors}"
    );
    let report: Value = output.json();
    assert_eq!(codes_at(&report).len(), 1, "crlf.yaml is still linted");
}

#[test]
fn binary_empty_and_oversized_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("image.yaml");
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0, 1, 2]).expect("write");
    let big = dir.path().join("big.yaml");
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(nats_doctor::manifest::MAX_FILE_BYTES + 1)
        .expect("size");
    let output = run(&[
        "lint",
        binary.to_str().expect("path"),
        big.to_str().expect("path"),
        "fixtures/inputs/empty.yaml",
        "fixtures/inputs/empty-documents.yaml",
    ]);
    assert_eq!(output.code, 2);
    let errors = output.stderr.clone();
    assert!(errors.contains("image.yaml:1:5: binary file"), "{errors}");
    assert!(
        errors.contains("big.yaml: larger than the 16 MiB input limit"),
        "{errors}"
    );
    assert!(
        !errors.contains("empty"),
        "empty inputs are not errors: {errors}"
    );

    let output = run(&[
        "lint",
        "fixtures/inputs/empty.yaml",
        "fixtures/inputs/empty-documents.yaml",
    ]);
    assert_eq!(output.code, 0, "{}", output.stderr.clone());
}

#[test]
fn hostile_yaml_fails_fast_with_bounded_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in b'b'..=b'i' {
        let previous = (level - 1) as char;
        let this = level as char;
        let refs = vec![format!("*{previous}"); 9].join(",");
        bomb.push_str(&format!("{this}: &{this} [{refs}]\n"));
    }
    let bomb_path = dir.path().join("bomb.yaml");
    std::fs::write(&bomb_path, bomb).expect("write");
    let deep_path = dir.path().join("deep.yaml");
    std::fs::write(
        &deep_path,
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .expect("write");
    let deep_block = dir.path().join("deep-block.yaml");
    let mut nested = String::new();
    for depth in 0..2_000 {
        nested.push_str(&" ".repeat(depth));
        nested.push_str("a:\n");
    }
    std::fs::write(&deep_block, nested).expect("write");

    let started = Instant::now();
    let output = run(&[
        "lint",
        bomb_path.to_str().expect("path"),
        deep_path.to_str().expect("path"),
        deep_block.to_str().expect("path"),
    ]);
    let elapsed = started.elapsed();
    assert_eq!(output.code, 2);
    let errors = output.stderr.clone();
    assert!(
        errors.contains("bomb.yaml:") && errors.contains("alias"),
        "{errors}"
    );
    assert!(errors.contains("deep.yaml:1:"), "{errors}");
    assert!(
        errors.contains("deep-block.yaml:") && errors.contains("nesting deeper than"),
        "{errors}"
    );
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[test]
fn thousands_of_files_in_a_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    for index in 0..3_000 {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{index}\n  namespace: ns{}\ndata:\n  NATS_URL: \"nats://nats-server.nats:4222\"\n",
            index % 40
        );
        std::fs::write(dir.path().join(format!("c{index}.yaml")), text).expect("write");
    }
    let (report, output) = json(&[dir.path().to_str().expect("path")]);
    assert_eq!(output.code, 0, "{}", output.stderr.clone());
    assert_eq!(report["summary"]["files"], 3_000);
    assert_eq!(report["summary"]["objects"], 3_000);
}

#[test]
fn secrets_never_appear_in_any_format() {
    for format in ["text", "json", "github"] {
        let output = nats_doctor([
            "lint",
            "--format",
            format,
            "--color",
            "always",
            "fixtures/inputs/secret.yaml",
        ])
        .secrets(&["hunter2", "bmF0czovL2Fw"])
        .colours()
        .run();
        let all = format!("{}{}", output.stdout.as_str(), output.stderr.clone());
        assert_eq!(output.code, 1, "{format}: {all}");
        assert!(!all.contains("hunter2"), "{format} leaks a password: {all}");
        assert!(
            !all.contains("bmF0czovL2Fw"),
            "{format} leaks Secret data: {all}"
        );
        if format == "text" {
            // The ConfigMap may show its host; the Secret's findings show nothing of its value.
            let stdout = output.stdout.as_str();
            let secret_blocks: Vec<&str> = stdout
                .split("\n\n")
                .filter(|block| block.contains("Secret petrosa-apps/nats-credentials"))
                .collect();
            assert!(!secret_blocks.is_empty(), "{stdout}");
            for block in secret_blocks {
                assert!(!block.contains("10.9.8.7"), "{block}");
                assert!(!block.contains("binance..extraction"), "{block}");
            }
        }
        assert!(
            all.contains("ND106"),
            "{format}: the ConfigMap URL is still reported: {all}"
        );
    }
    // A URL in a Secret is judged, but its value is never shown.
    let (report, _) = json(&["fixtures/inputs/secret.yaml"]);
    let secret_findings: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["object"]["kind"] == "Secret")
        .collect();
    assert!(
        secret_findings.iter().any(|f| f["code"] == "ND101"),
        "{report}"
    );
    assert!(
        secret_findings.iter().any(|f| f["code"] == "ND304"),
        "{report}"
    );
    for finding in secret_findings {
        assert!(!finding.to_string().contains("10.9.8.7"), "{finding}");
        assert!(
            !finding.to_string().contains("binance..extraction"),
            "{finding}"
        );
    }
}

#[test]
fn ignore_annotation_disable_enable_and_fail_on() {
    let (report, output) = json(&["fixtures/inputs/ignored.yaml"]);
    let codes: Vec<String> = codes_at(&report).into_iter().map(|f| f.0).collect();
    assert_eq!(codes, ["ND302"], "ND102 and url-ip-literal are ignored");
    assert_eq!(output.code, 0, "a warning is below --fail-on error");
    let (_, output) = json(&["--fail-on", "warning", "fixtures/inputs/ignored.yaml"]);
    assert_eq!(output.code, 1);

    let (report, output) = json(&["--disable", "ND101,nats-url-missing", "fixtures/examples/"]);
    let codes: Vec<String> = codes_at(&report).into_iter().map(|f| f.0).collect();
    assert_eq!(codes, ["ND302", "ND303"]);
    assert_eq!(output.code, 1);
    let (report, _) = json(&["--enable", "ND303", "fixtures/examples/"]);
    let codes: Vec<String> = codes_at(&report).into_iter().map(|f| f.0).collect();
    assert_eq!(codes, ["ND303"]);
    let (_, output) = json(&["--fail-on", "never", "fixtures/examples/"]);
    assert_eq!(output.code, 0);

    let output = run(&["lint", "--disable", "ND999", "fixtures/examples/"]);
    assert_eq!(output.code, 2);
    assert!(output.stderr.clone().contains("unknown rule `ND999`"));
}

#[test]
fn text_output_is_compiler_style_with_a_summary() {
    let output = run(&["lint", "--color", "never", "fixtures/examples/"]);
    let text = output.stdout.as_str();
    assert!(
        text.starts_with("error[ND101]: NATS URL host 192.168.194.253 is an IP address"),
        "{text}"
    );
    assert!(
        text.contains("  --> fixtures/examples/petrosa.yaml:14:13\n"),
        "{text}"
    );
    assert!(
        text.contains("14 |   NATS_URL: \"nats://192.168.194.253:4222\"\n"),
        "{text}"
    );
    assert!(
        text.contains("   |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
        "{text}"
    );
    assert!(
        text.contains("= used by: Deployment petrosa-apps/klines-extractor"),
        "{text}"
    );
    assert!(
        text.ends_with("3 errors, 1 warning, 0 infos in 4 objects from 1 input\n"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour when asked for none");

    let coloured = nats_doctor(["lint", "--color", "always", "fixtures/examples/"])
        .colours()
        .run();
    assert!(coloured.stdout.as_str().contains('\u{1b}'));
    let no_color = nats_doctor(["lint", "fixtures/examples/"])
        .env("NO_COLOR", "1")
        .run();
    assert!(!no_color.stdout.as_str().contains('\u{1b}'));

    let quiet = run(&["lint", "-q", "fixtures/rules/ND101/good.yaml"]);
    assert_eq!(quiet.code, 0);
    assert!(quiet.stdout.is_empty());
}

#[test]
fn rules_and_explain() {
    let output = run(&["rules"]);
    let text = output.stdout.as_str();
    assert!(
        text.lines()
            .any(|l| l.starts_with("ND101  url-ip-literal") && l.contains("error")),
        "{text}"
    );
    for rule in nats_doctor::rules::RULES {
        assert!(text.contains(rule.code) && text.contains(rule.name));
    }
    for query in ["ND303", "nd303", "non-string-value"] {
        let output = run(&["explain", query]);
        assert_eq!(output.code, 0);
        let doc = output.stdout.as_str();
        assert!(doc.starts_with("# ND303 non-string-value (error)"), "{doc}");
        assert!(doc.contains("## Why is this bad?"));
    }
    let output = run(&["explain", "ND000"]);
    assert_eq!(output.code, 2);
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_codes() {
    assert_eq!(run(&["lint", "--format", "yaml"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
    let help = run(&["lint", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.as_str().contains("Exit codes:"));
}

#[test]
fn no_input_panics_even_when_cut_anywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut paths = Vec::new();
    for fixture in [
        "fixtures/examples/petrosa.yaml",
        "fixtures/inputs/secret.yaml",
        "fixtures/inputs/list.json",
    ] {
        let text = std::fs::read(fixture).expect("fixture");
        for cut in (0..text.len()).step_by(11) {
            let path = dir.path().join(format!(
                "{}-{cut}.yaml",
                Path::new(fixture)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("f")
            ));
            std::fs::write(&path, &text[..cut]).expect("write");
            paths.push(path);
        }
    }
    let output = run(&[
        "lint",
        "--format",
        "json",
        dir.path().to_str().expect("path"),
    ]);
    assert!(
        matches!(Some(output.code), Some(0..=2)),
        "{}",
        output.stderr.clone()
    );
    assert!(!output.stderr.clone().contains("panicked"));
    output.json();
}

#[test]
fn a_documented_setting_from_a_secret_makes_a_client_and_a_token_alone_does_not() {
    // The lint context keeps only the variables its rules read. A subject prefix read
    // from a Secret is still one of the documented settings, so the container is one of
    // the documented services without NATS_URL; a token alone says nothing of which
    // app it is, and which variable that app reads its address from.
    let manifest = |name: &str| {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: team}}
spec:
  template:
    spec:
      containers:
      - name: app
        image: example/app
        env:
        - name: {name}
          valueFrom: {{secretKeyRef: {{name: creds, key: value}}}}
"
        )
    };
    let output = run_with_stdin(
        &["lint", "--format", "json", "-"],
        manifest("NATS_SUBJECT_PREFIX").as_bytes(),
    );
    let report: Value = output.json();
    let codes: Vec<(String, u64, u64)> = codes_at(&report)
        .into_iter()
        .map(|(code, _, line, column)| (code, line, column))
        .collect();
    assert_eq!(codes, vec![("ND301".to_string(), 8, 15)], "{report}");
    assert_eq!(output.code, 1);
    let output = run_with_stdin(
        &["lint", "--format", "json", "-"],
        manifest("NATS_TOKEN").as_bytes(),
    );
    let report: Value = output.json();
    assert!(codes_at(&report).is_empty(), "{report}");
    assert_eq!(output.code, 0);
}

#[test]
fn files_joined_without_a_separator_are_one_object_with_repeated_keys() {
    // `cat a.yaml b.yaml | nats-doctor lint -` where neither file has `---`.
    let first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: petrosa-common-config\n  namespace: petrosa-apps\ndata:\n  NATS_URL: \"nats://nats-server.nats:4222\"\n";
    let second = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: petrosa-sensitive-credentials\n  namespace: petrosa-apps\nstringData:\n  NATS_PASSWORD: \"s3cr3t-value\"\n  NATS_PASSWORD: \"0ther-s3cr3t\"\n";
    let joined = format!("{first}{second}");
    let output = run_with_stdin(&["lint", "--format", "json", "-"], joined.as_bytes());
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    let report: Value = output.json();
    let repeated: Vec<_> = codes_at(&report)
        .into_iter()
        .filter(|(code, ..)| code == "ND310")
        .map(|(_, file, line, column)| (file, line, column))
        .collect();
    let stdin = || "<stdin>".to_string();
    assert_eq!(
        repeated,
        [
            (stdin(), 8, 1),
            (stdin(), 9, 1),
            (stdin(), 10, 1),
            (stdin(), 15, 3)
        ],
        "apiVersion, kind, metadata and the Secret's key: {report}"
    );
    let findings = report["findings"].as_array().expect("findings");
    let api_version = findings
        .iter()
        .find(|f| f["code"] == "ND310" && f["line"] == 8)
        .expect("apiVersion");
    assert!(
        api_version["help"]
            .as_str()
            .is_some_and(|help| help.contains("---")),
        "{api_version}"
    );
    assert_eq!(
        api_version["object"]["kind"], "Secret",
        "the last value counts"
    );

    // The repeated Secret key is reported without its value or its line, in every format.
    for format in ["text", "json", "github", "sarif"] {
        let output = run_with_stdin(
            &["lint", "--format", format, "--color", "never", "-"],
            joined.as_bytes(),
        );
        let all = format!("{}{}", output.stdout.as_str(), output.stderr.clone());
        assert!(all.contains("ND310"), "{format}: {all}");
        for secret in ["s3cr3t-value", "0ther-s3cr3t"] {
            assert!(!all.contains(secret), "{format} shows {secret}: {all}");
        }
    }
}

#[test]
fn findings_at_custom_resource_fields_name_the_field_and_the_nats_service() {
    // The NATS Service of the input, chosen from the workload's namespace; a field has
    // `field` and no `variable`; other projects' inputs get no runbook line.
    let (report, output) = json(&["fixtures/rules/ND101/bad-with-nats-service.yaml"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    let findings = report["findings"].as_array().expect("findings");
    let field = findings
        .iter()
        .find(|f| f["field"].is_string())
        .expect("a finding at a field");
    assert_eq!(
        field["field"],
        "spec.triggers[0].metadata.natsServerMonitoringEndpoint"
    );
    assert_eq!(field["variable"], Value::Null);
    assert_eq!(
        field["help"],
        "use the Service name: nats.messaging.svc.cluster.local:8222"
    );
    let variable = findings
        .iter()
        .find(|f| f["variable"] == "NATS_SERVERS")
        .expect("a finding at a variable");
    assert_eq!(variable["field"], Value::Null);
    assert_eq!(
        variable["help"],
        "use the Service name: nats://nats.messaging.svc.cluster.local:4222"
    );
    assert!(findings.iter().all(|f| f["runbook"].is_null()), "{report}");
    // --nats-service states it, whatever the input holds.
    let (report, _) = json(&[
        "--nats-service",
        "queues/nats-cluster",
        "fixtures/rules/ND101/bad-with-nats-service.yaml",
    ]);
    let helps: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["help"].as_str())
        .collect();
    assert!(
        helps.contains(&"use the Service name: nats://nats-cluster.queues.svc.cluster.local:4222"),
        "{helps:?}"
    );
    let bad = run(&["lint", "--nats-service", "nats", "fixtures/examples/"]);
    assert_eq!(bad.code, 2, "NAMESPACE/NAME is required");
}

#[test]
fn runbook_lines_name_the_object_the_value_is_written_in() {
    let (report, _) = json(&["fixtures/examples/"]);
    let runbooks: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["runbook"].as_str())
        .collect();
    assert!(runbooks.contains(&"Wrong NATS URL configuration (the troubleshooting guide of the service's NATS documentation): kubectl get configmap petrosa-common-config -n petrosa-apps -o yaml"));
    assert!(runbooks.contains(&"Wrong NATS URL configuration (the troubleshooting guide of the service's NATS documentation): kubectl get cronjob klines-gap-filler -n petrosa-apps -o yaml"));
    // A compose service gets compose advice: no kubectl, no Service.
    let (report, _) = json(&["fixtures/rules/ND301/bad-compose.yaml"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["help"], "set NATS_URL, e.g. nats://nats:4222");
    assert_eq!(finding["runbook"], Value::Null);
}

#[test]
fn a_variable_set_again_in_a_long_env_list_is_found_at_each_repeat() {
    // Every repeat after the first place is a finding, in a short list and a long one.
    for count in [6, 40] {
        let mut env: Vec<String> = (0..count).map(|i| format!("V{i}")).collect();
        env[2] = "REPEATED".to_string();
        env[count - 2] = "REPEATED".to_string();
        env[count - 1] = "REPEATED".to_string();
        let list: Vec<String> = env
            .iter()
            .map(|name| format!("        - {{name: {name}, value: x}}\n"))
            .collect();
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        env:\n{}",
            list.concat()
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("w.yaml");
        std::fs::write(&path, text).expect("write");
        let (report, _) = json(&["--enable", "ND308", path.to_str().expect("utf-8 path")]);
        let lines: Vec<u64> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|finding| finding["line"].as_u64().expect("line"))
            .collect();
        // The env list starts on line 11: entry i is on line 11 + i.
        let expected = vec![11 + count as u64 - 2, 11 + count as u64 - 1];
        assert_eq!(lines, expected, "{count} variables");
    }
}
