//! Objects without a namespace, as a user sees them: one group deployed into a namespace
//! the input does not name, which `--namespace NS` names. Run through the binary, so the
//! command line, the JSON `object.namespace` and the text report are what is checked.

use serde_json::Value;
use std::process::{Command, Output};

fn lint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nats-doctor"))
        .arg("lint")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("nats-doctor runs")
}

fn json(args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let output = lint(&all);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

/// The fixtures of every rule that show objects without a namespace.
fn group_fixtures() -> Vec<String> {
    let mut paths: Vec<String> = std::fs::read_dir("fixtures/rules")
        .expect("fixtures")
        .flat_map(|dir| std::fs::read_dir(dir.expect("entry").path()).expect("rule fixtures"))
        .map(|entry| entry.expect("entry").path().display().to_string())
        .filter(|path| path.contains("without-namespace"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 10,
        "fixtures with objects without a namespace: {paths:?}"
    );
    paths
}

#[test]
fn objects_without_a_namespace_have_no_namespace_in_any_output() {
    let paths = group_fixtures();
    let mut args: Vec<&str> = vec!["--color", "never"];
    args.extend(paths.iter().map(String::as_str));
    let text = String::from_utf8(lint(&args).stdout).expect("utf-8");
    assert!(text.contains("error[ND202]"), "{text}");
    assert!(
        !text.contains("default"),
        "no namespace is called default:\n{text}"
    );
    assert!(
        !text.contains("-n  "),
        "no empty namespace in a command:\n{text}"
    );

    let mut args: Vec<&str> = Vec::new();
    args.extend(paths.iter().map(String::as_str));
    let report = json(&args);
    let without: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["object"]["namespace"].is_null())
        .collect();
    assert!(!without.is_empty());
    for finding in findings(&report) {
        let object = finding["object"]
            .as_object()
            .expect("every finding has an object");
        assert!(object.contains_key("namespace"), "the key stays: {finding}");
        assert_ne!(finding["object"]["namespace"], "default");
        assert_ne!(finding["object"]["namespace"], "");
    }
}

#[test]
fn the_keptn_statistics_service_secret_is_not_reported_in_another_namespace() {
    let fixture = "fixtures/rules/ND307/good-without-namespace.yaml";
    let report = json(&["--enable", "ND306,ND307", fixture]);
    assert!(findings(&report).is_empty(), "{report:#}");

    // Named, the group is that namespace, as if its objects named it: the finding of
    // the former pinning to `default` is back, and `keptn` resolves.
    let report = json(&["--enable", "ND306,ND307", "--namespace", "default", fixture]);
    let messages: Vec<&str> = findings(&report)
        .iter()
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages.len(), 2, "{report:#}");
    assert!(messages.iter().any(|m| m.contains(
        "Secret `mongodb-credentials` is in namespace `keptn`, not in `default` where the pod runs"
    )));
    assert!(messages
        .iter()
        .any(|m| m
            .contains("ConfigMap `nats-client-config` is in namespace `default`, not in `apps`")));
    let report = json(&["--enable", "ND306,ND307", "--namespace", "keptn", fixture]);
    assert_eq!(
        findings(&report).len(),
        1,
        "only the ConfigMap that would be in keptn, not apps: {report:#}"
    );
}

#[test]
fn the_namespace_flag_names_the_group_in_every_output() {
    let fixture = "fixtures/rules/ND202/bad-without-namespace.yaml";
    let report = json(&["--enable", "ND202", fixture]);
    let finding = &findings(&report)[0];
    assert!(finding["object"]["namespace"].is_null(), "{finding}");
    assert!(finding["message"]
        .as_str()
        .expect("message")
        .contains("in the namespace chosen at deploy time"));

    let report = json(&["--enable", "ND202", "--namespace", "keptn-apps", fixture]);
    let finding = &findings(&report)[0];
    assert_eq!(finding["object"]["namespace"], "keptn-apps");
    assert_eq!(
        finding["message"],
        "no Service `keptn-nats` in namespace `keptn-apps`; `keptn-nats` will not resolve"
    );
    assert_eq!(
        finding["help"],
        "create Service `keptn-nats` in namespace `keptn-apps`, or point the URL at the Service that runs NATS"
    );
    // keptn's distributor is not one of the documented services: their troubleshooting
    // guide is not its runbook.
    assert!(finding["runbook"].is_null(), "{finding}");
}

#[test]
fn the_help_tells_that_the_default_is_the_group() {
    let output = Command::new(env!("CARGO_BIN_EXE_nats-doctor"))
        .args(["lint", "--help"])
        .output()
        .expect("nats-doctor runs");
    let help = String::from_utf8(output.stdout).expect("utf-8");
    let at = help
        .find("--namespace <NS>")
        .expect("the flag is documented");
    let text = &help[at..help[at..].find("\n\n").map_or(help.len(), |end| at + end)];
    assert!(text.contains("chosen at deploy time"), "{text}");
    assert!(!text.contains("default: default"), "{text}");
}

/// A directory with `helm` in it: `tests/tools/helm_template.py`, a `helm template` on
/// Helm's Go library from the PyPI package helm-python-sdk in target/test-venv.
fn helm_directory() -> tempfile::TempDir {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/test-venv/bin/python3");
    let found = python.exists()
        && Command::new(&python)
            .args(["-c", "import helm_python"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    assert!(
        found,
        "charts are rendered with Helm's Go library from the PyPI package helm-python-sdk, \
         which is not installed in target/test-venv; install it with:\n  \
         python3 -m venv target/test-venv && target/test-venv/bin/pip install helm-python-sdk==0.2.2   (./scripts/test does this)"
    );
    let directory = tempfile::tempdir().expect("tempdir");
    let helm = directory.path().join("helm");
    std::fs::write(
        &helm,
        format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            python.display(),
            root.join("tests/tools/helm_template.py").display()
        ),
    )
    .expect("write helm");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    directory
}

#[test]
fn a_chart_rendered_without_a_namespace_is_one_group_with_its_release_namespace() {
    let helm = helm_directory();
    let path = format!(
        "{}:{}",
        helm.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_nats-doctor"))
            .arg("lint")
            .args(args)
            .arg("fixtures/charts/release-namespace")
            .env("PATH", &path)
            .output()
            .expect("nats-doctor runs");
        String::from_utf8(output.stdout).expect("utf-8")
    };
    // Helm would write `default` for `.Release.Namespace`. The release's objects that
    // name it and those that name none are deployed together: the ConfigMap's URL names
    // the Service, and the Deployment's refs resolve in the ConfigMap.
    let report: Value = serde_json::from_str(&run(&["--format", "json"])).expect("json");
    let codes: Vec<(&str, Value)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["code"].as_str().expect("code"),
                f["object"]["namespace"].clone(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [("ND203", Value::Null), ("ND306", Value::Null)],
        "{report:#}"
    );
    let text = run(&["--color", "never"]);
    assert!(text.contains("Service `nats` has no port 4333"), "{text}");
    assert!(
        text.contains("help: use port 4222: nats://nats:4222"),
        "{text}"
    );
    assert!(
        text.contains("ConfigMap `app-config` has no key `NATS_ENABLED`"),
        "{text}"
    );
    assert!(!text.contains("default"), "{text}");
    assert!(!text.contains("nats-doctor-release-namespace"), "{text}");

    let text = run(&["--color", "never", "--namespace", "apps"]);
    assert!(
        text.contains("Service `apps/nats` has no port 4333"),
        "{text}"
    );
    assert!(text.contains("object: Deployment apps/app"), "{text}");
}
