//! Helm charts and Kustomize overlays, rendered by real Helm and kustomize code, and
//! their findings placed at the files that wrote them.
//!
//! Charts are rendered by `tests/tools/helm_template.py`, a `helm template` on Helm's
//! Go library as the PyPI package helm-python-sdk ships it, put first on PATH as `helm`.
//! Overlays are built by the `kustomize` or `kubectl` on PATH.

mod support;

use std::process::Command;
use support::run::findings;
use support::tools::{helm_directory, path_with};
use support::{nats_doctor, root, Run};

/// A PATH on which there is neither helm nor kustomize nor kubectl.
fn empty_path() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn lint(args: &[&str], path: &str) -> Run {
    nats_doctor(["lint"])
        .args(args)
        .current_dir(root())
        .env("PATH", path)
        .run()
}

fn at(code: &str, file: &str, line: u64, column: u64) -> (String, String, u64, u64) {
    (code.to_string(), file.to_string(), line, column)
}

const CHART: &str = "fixtures/charts/nats-app";

#[test]
fn chart_findings_point_at_the_template_line_and_the_values_line() {
    let helm = helm_directory();
    let path = path_with(helm.path());
    let output = lint(&["--format", "json", CHART], &path);
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    assert_eq!(output.stderr.clone(), "", "a rendered chart needs no note");
    let report = output.json();
    let templates = "fixtures/charts/nats-app/templates";
    assert_eq!(
        findings(&report),
        [
            // `NATS_URL: {{ .Values.nats.url | quote }}`: at the action.
            at("ND101", &format!("{templates}/configmap.yaml"), 8, 13),
            // A literal line of the template: at the value itself.
            at("ND304", &format!("{templates}/configmap.yaml"), 9, 24),
            // Written by `{{- toYaml .Values.extractor.env | nindent 12 }}`.
            at("ND302", &format!("{templates}/workloads.yaml"), 19, 13),
            // The second document of the template.
            at("ND301", &format!("{templates}/workloads.yaml"), 36, 21),
        ]
    );
    assert_eq!(report["summary"]["files"], 1, "the chart is one input");
    assert_eq!(report["summary"]["skipped"]["chart"], 5, "{report}");
    let first = &report["findings"][0];
    assert_eq!(
        first["object"]["name"], "nats-app-config",
        "release name = chart name"
    );

    // The values file line the value came from is the related location.
    let text = lint(&["--color", "never", CHART], &path);
    let stdout = text.stdout.as_str();
    assert!(
        stdout.contains(
            " --> fixtures/charts/nats-app/templates/configmap.yaml:8:13\n  |\n8 |   NATS_URL: {{ .Values.nats.url | quote }}\n  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n ::: fixtures/charts/nats-app/values.yaml:3:8\n"
        ),
        "{stdout}"
    );
    let sarif = lint(&["--format", "sarif", CHART], &path).json();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/charts/nats-app/templates/configmap.yaml"
    );
    let related = &result["relatedLocations"][0]["physicalLocation"];
    assert_eq!(
        related["artifactLocation"]["uri"],
        "fixtures/charts/nats-app/values.yaml"
    );
    assert_eq!(related["region"]["startLine"], 3);
    let github = lint(&["--format", "github", CHART], &path);
    assert!(
        github.stdout.as_str().contains(
            "::error file=fixtures/charts/nats-app/templates/configmap.yaml,line=8,col=13,title=ND101"
        ),
        "{}",
        github.stdout.as_str()
    );
}

#[test]
fn helm_values_set_release_name_and_namespace_are_passed_to_helm() {
    let helm = helm_directory();
    let path = path_with(helm.path());
    let staging = "fixtures/charts/nats-app/values-staging.yaml";
    let output = lint(
        &[
            "--format",
            "json",
            "--helm-values",
            staging,
            "--release-name",
            "demo",
            "--namespace",
            "petrosa-apps",
            CHART,
        ],
        &path,
    );
    let report = output.json();
    let url = &report["findings"][0];
    assert_eq!(url["code"], "ND101");
    assert!(
        url["message"]
            .as_str()
            .expect("message")
            .contains("10.77.0.5"),
        "{url}"
    );
    assert_eq!(url["object"]["name"], "demo-nats-app-config");
    assert_eq!(url["object"]["namespace"], "petrosa-apps");
    let text = lint(
        &["--color", "never", "--helm-values", staging, CHART],
        &path,
    );
    let stdout = text.stdout.as_str();
    assert!(
        stdout.contains(" ::: fixtures/charts/nats-app/values-staging.yaml:3:8\n"),
        "the values file that wins: {stdout}"
    );
    // A value from --helm-set is in no file: the template line alone.
    let output = lint(
        &[
            "--color",
            "never",
            "--helm-set",
            "nats.url=nats://10.99.0.1:4222",
            CHART,
        ],
        &path,
    );
    let stdout = output.stdout.as_str();
    assert!(stdout.contains("10.99.0.1"), "{stdout}");
    assert!(!stdout.contains("values.yaml"), "{stdout}");
}

#[test]
fn a_chart_that_fails_to_render_is_an_input_error_at_the_template_line() {
    let helm = helm_directory();
    let output = lint(&["fixtures/charts/broken"], &path_with(helm.path()));
    assert_eq!(output.code, 2);
    let errors = output.stderr.clone();
    assert!(
        errors.starts_with(
            "error: fixtures/charts/broken/templates/configmap.yaml:6:22: helm failed: "
        ),
        "{errors}"
    );
}

#[test]
fn without_helm_a_chart_is_one_note_and_require_render_makes_it_an_error() {
    let nothing = empty_path();
    let path = nothing.path().display().to_string();
    let output = lint(&["--format", "json", CHART], &path);
    assert_eq!(output.code, 0, "the exit code is unaffected");
    assert_eq!(
        output.stderr.clone(),
        "note: fixtures/charts/nats-app: Helm chart not linted: helm is not on PATH; to lint it: helm template nats-app fixtures/charts/nats-app | nats-doctor lint -\n"
    );
    let report = output.json();
    assert_eq!(report["summary"]["skipped"]["chart"], 5, "{report}");
    assert!(
        findings(&report).is_empty(),
        "templates are never parsed as YAML"
    );

    let output = lint(&["--require-render", CHART], &path);
    assert_eq!(output.code, 2);
    assert!(
        output.stderr.clone().starts_with("error: fixtures/charts/nats-app/Chart.yaml: Helm chart not linted: helm is not on PATH"),
        "{}",
        output.stderr.clone()
    );
    // The note says how to lint it: that command, piped in, gives the chart's findings.
    let helm = helm_directory();
    let rendered = Command::new(helm.path().join("helm"))
        .args(["template", "nats-app", CHART])
        .current_dir(root())
        .output()
        .expect("helm runs");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let piped = nats_doctor(["lint", "--format", "json", "-"])
        .env("PATH", &path)
        .stdin(rendered.stdout)
        .run();
    let codes: Vec<String> = findings(&piped.json()).into_iter().map(|f| f.0).collect();
    assert_eq!(
        codes,
        ["ND101", "ND304", "ND302", "ND301"],
        "{}",
        piped.stderr.clone()
    );
}

const OVERLAYS: &str = "fixtures/kustomize";

/// A PATH with kustomize or kubectl on it.
fn kustomize_path() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .any(|dir| dir.join("kustomize").is_file() || dir.join("kubectl").is_file());
    assert!(
        found,
        "overlays are built with kustomize or kubectl kustomize, and neither is on PATH; \
         install one with:\n  apt-get install kubernetes-client   (.ci/run does this)"
    );
    path
}

#[test]
fn overlay_findings_point_at_the_resource_the_patch_and_the_generator() {
    let output = lint(&["--format", "json", OVERLAYS], &kustomize_path());
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    let report = output.json();
    assert_eq!(
        findings(&report),
        [
            // Written in the base, unchanged by the overlay.
            at("ND302", "fixtures/kustomize/base/deployment.yaml", 21, 22),
            // Written by the configMapGenerator literal.
            at(
                "ND304",
                "fixtures/kustomize/overlays/prod/kustomization.yaml",
                11,
                29
            ),
            // Written by the patch.
            at(
                "ND101",
                "fixtures/kustomize/overlays/prod/nats-url.yaml",
                12,
                22
            ),
        ]
    );
    let objects: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["object"]["name"].as_str().expect("name"))
        .collect();
    assert!(objects.contains(&"prod-extractor"), "{objects:?}");
    // The base, the overlay and the patch are not linted again on their own.
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["skipped"]["kustomize"], 4, "{report}");
}

#[test]
fn without_a_builder_bases_are_plain_files_and_patches_are_skipped() {
    let nothing = empty_path();
    let path = nothing.path().display().to_string();
    let output = lint(&["--format", "json", OVERLAYS, "-v"], &path);
    assert_eq!(output.code, 0, "{}", output.stderr.clone());
    let errors = output.stderr.clone();
    let notes: Vec<&str> = errors.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(
        notes,
        ["note: fixtures/kustomize/overlays/prod: Kustomize overlay not built: neither kustomize nor kubectl is on PATH; its resources are linted as plain files and its patches skipped; to lint the build: kustomize build fixtures/kustomize/overlays/prod | nats-doctor lint -"]
    );
    assert!(
        errors.contains(
            "skipped: fixtures/kustomize/overlays/prod/nats-url.yaml: a file of a Kustomize tree"
        ),
        "{errors}"
    );
    let report = output.json();
    assert_eq!(
        findings(&report),
        [at(
            "ND302",
            "fixtures/kustomize/base/deployment.yaml",
            21,
            22
        )]
    );
    let output = lint(&["--require-render", OVERLAYS], &path);
    assert_eq!(output.code, 2, "{}", output.stderr.clone());
    assert!(
        output.stderr.clone().starts_with("error: fixtures/kustomize/overlays/prod/kustomization.yaml: Kustomize overlay not built"),
        "{}",
        output.stderr.clone()
    );
}
