//! The recipes under `examples/` are what users copy: every manifest there must lint
//! clean, and the Kubernetes Job and CronJob must run `check` with the settings of the
//! extraction jobs.
mod support;

use std::process::Command;
use support::{nats_doctor, root};

#[test]
fn every_manifest_under_examples_lints_clean() {
    let output = nats_doctor([
        "lint",
        "--format",
        "json",
        "--fail-on",
        "info",
        // Not --strict-refs: the NATS Service lives in namespace `nats`, which these
        // recipes must not create; lint checks it wherever the input has Services.
        "examples/",
    ])
    .current_dir(root())
    .run();
    let stdout = output.stdout.as_str();
    let stderr = output.stderr.as_str();
    assert_eq!(output.code, 0, "{stdout}\n{stderr}");
    assert!(stderr.is_empty(), "input errors: {stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout).expect("JSON report");
    assert_eq!(report["findings"], serde_json::json!([]), "{stdout}");
    let summary = &report["summary"];
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["warnings"], 0);
    assert_eq!(summary["infos"], 0);
    // Namespace, ConfigMap, Job, CronJob at least: the linter did read them.
    assert!(summary["objects"].as_u64().unwrap_or(0) >= 4, "{stdout}");
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn job_and_cronjob_run_check_with_the_extraction_settings() {
    for path in [
        "examples/kubernetes/job.yaml",
        "examples/kubernetes/cronjob.yaml",
    ] {
        let text = read(path);
        assert!(
            text.contains(r#"args: ["check", "--format", "json"]"#),
            "{path}"
        );
        assert!(text.contains("name: petrosa-common-config"), "{path}");
        for key in ["NATS_URL", "NATS_ENABLED", "NATS_SUBJECT_PREFIX"] {
            assert!(text.contains(&format!("key: {key}")), "{path}: {key}");
        }
        assert!(text.contains("secretKeyRef:"), "{path}");
        assert!(text.contains("- name: POD_NAMESPACE"), "{path}");
        assert!(text.contains("fieldPath: metadata.namespace"), "{path}");
        assert!(text.contains("namespace: petrosa-apps"), "{path}");
    }
    assert!(read("examples/kubernetes/cronjob.yaml").contains("kind: CronJob"));
    assert!(read("examples/kubernetes/job.yaml").contains("kind: Job"));
}

#[test]
fn copy_into_pod_recipe_is_valid_bash() {
    let script = root().join("examples/kubernetes/copy-into-pod.sh");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("run bash -n");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let text = read("examples/kubernetes/copy-into-pod.sh");
    assert!(text.contains("kubectl cp "));
    assert!(text.contains("/tmp/nats-doctor check"));
    // Without arguments it prints its usage and exits 2, touching no cluster.
    let usage = Command::new("bash")
        .arg(&script)
        .output()
        .expect("run the script");
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn pre_commit_hook_runs_lint() {
    let text = read(".pre-commit-hooks.yaml");
    assert!(text.contains("- id: nats-doctor-lint\n"), "{text}");
    assert!(text.contains("entry: nats-doctor lint\n"), "{text}");
    assert!(text.contains("language: rust\n"), "{text}");
    for extension in ["ya?ml", "json", ".env"] {
        assert!(text.contains(extension), "{extension}");
    }
    // The hook file is YAML the linter itself reads without an input error.
    let output = nats_doctor(["lint", ".pre-commit-hooks.yaml"])
        .current_dir(root())
        .run();
    assert_eq!(output.code, 0);
    assert!(output.stderr.is_empty(), "{}", output.stderr.as_str());
}
