//! What `nats-doctor lint` reads when it walks a real repository: only what is deployed
//! is judged, ignore files are honoured, every other file is skipped and counted, and
//! only files that are really broken are input errors.

mod support;

use std::path::Path;
use std::process::Command;
use support::run::findings;
use support::{nats_doctor, root, Run};

/// Runs the binary in `directory` with `args`, with PATH set to `path`.
fn run_in(directory: &Path, args: &[&str], path: Option<&str>) -> Run {
    let doctor = nats_doctor(args).current_dir(directory);
    match path {
        Some(path) => doctor.env("PATH", path),
        None => doctor,
    }
    .run()
}

/// Copies a fixture directory into a temporary directory.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The repository fixture, with the directories that `.gitignore` leaves out: a broken
/// manifest under `node_modules/` and build output.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&root().join("fixtures/inputs/repository"), dir.path());
    for (path, text) in [
        (
            "node_modules/some-chart/deploy.yaml",
            "apiVersion: v1\nkind: ConfigMap\ndata: [\n",
        ),
        ("node_modules/some-chart/package.json", "{\"name\": \"x\"}\n"),
        (
            "build/rendered.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  NATS_URL: \"nats://10.9.9.9:4222\"\n",
        ),
        // A checkout's own files are never entered.
        (".git/config", "[core]\n"),
        (".git/hooks/x.yaml", "apiVersion: v1\nkind: [\n"),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

#[test]
fn a_repository_reports_input_errors_only_for_broken_manifests() {
    let repository = repository();
    let output = run_in(repository.path(), &["lint", ".", "--format", "json"], None);
    let errors = output.stderr.clone();
    assert_eq!(output.code, 2, "{errors}");
    let error_lines: Vec<&str> = errors.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        error_lines,
        ["error: ./deploy/broken.yaml:14:5: invalid YAML: did not find expected key (while parsing a block mapping at line 7, column 3)"],
        "{errors}"
    );
    // The missing env_file is a note, once for the two services that name it.
    let notes: Vec<&str> = errors.lines().filter(|l| l.starts_with("note")).collect();
    assert_eq!(notes.len(), 1, "{errors}");
    assert!(
        notes[0]
            .starts_with("note: ./compose/docker-compose.yml:4:15: env_file `.env` does not exist")
            && notes[0].ends_with("for services extractor, gap-filler"),
        "{errors}"
    );
    let report = output.json();
    assert_eq!(
        findings(&report),
        [("ND101".to_string(), "./deploy/app.yaml".to_string(), 7, 13)]
    );
    assert_eq!(
        report["summary"]["skipped"],
        serde_json::json!({"not-a-manifest": 3, "template": 1, "unparsable": 1}),
        "{report}"
    );
    // app.yaml, alerts.yaml (judged although it holds `{{ $labels.instance }}`),
    // broken.yaml and the compose file.
    assert_eq!(report["summary"]["files"], 4, "{report}");

    // Without the ignore files, node_modules and the build output are read too.
    let output = run_in(
        repository.path(),
        &["lint", ".", "--format", "json", "--no-ignore"],
        None,
    );
    let errors = output.stderr.clone();
    assert!(
        errors.contains("./node_modules/some-chart/deploy.yaml:4:1: invalid YAML"),
        "{errors}"
    );
    assert!(
        !errors.contains(".git/"),
        "hidden directories stay out: {errors}"
    );
    let report = output.json();
    assert!(
        findings(&report).contains(&(
            "ND101".to_string(),
            "./build/rendered.yaml".to_string(),
            6,
            13
        )),
        "{report}"
    );
}

#[test]
fn verbose_lists_skipped_files_and_the_text_summary_counts_them() {
    let repository = repository();
    let output = run_in(
        repository.path(),
        &["lint", ".", "-v", "--color", "never"],
        None,
    );
    let errors = output.stderr.clone();
    let skipped: Vec<&str> = errors
        .lines()
        .filter(|l| l.starts_with("skipped: "))
        .collect();
    assert_eq!(
        skipped,
        [
            "skipped: ./.pre-commit-config.yaml: no Kubernetes object or compose file in it",
            "skipped: ./dashboards/nats.json: no Kubernetes object or compose file in it",
            "skipped: ./helm/values-prod.yaml: no Kubernetes object or compose file in it",
            "skipped: ./jobs/broker.yaml: a template (`{{ ... }}`), not a manifest",
            "skipped: ./tsconfig.json: not valid YAML, and not a manifest (4:21: did not find expected ',' or '}' (while parsing a flow mapping at line 2, column 22))",
        ],
        "{errors}"
    );
    let stdout = output.stdout.as_str();
    let summary = stdout.lines().last().expect("summary line");
    assert!(
        summary.ends_with(
            "; 1 input could not be read; 5 files skipped (not-a-manifest, template, unparsable; -v lists them)"
        ),
        "{summary}"
    );
    // Without -v, nothing is said about them but the count.
    let quiet = run_in(repository.path(), &["lint", "."], None);
    assert!(
        !quiet.stderr.clone().contains("skipped:"),
        "{}",
        quiet.stderr.clone()
    );
}

#[test]
fn named_files_are_always_judged() {
    let fixture = root().join("fixtures/inputs/repository");
    // A template named on the command line is an error with the hint to render it;
    // JSON with comments is invalid YAML; a dashboard is read and holds nothing.
    let output = run_in(
        &fixture,
        &[
            "lint",
            "jobs/broker.yaml",
            "tsconfig.json",
            "dashboards/nats.json",
        ],
        None,
    );
    let errors = output.stderr.clone();
    assert_eq!(output.code, 2, "{errors}");
    assert!(
        errors.contains("error: jobs/broker.yaml:4:9: unrendered template (`{{ ... }}`); render it first: helm template RELEASE CHART | nats-doctor lint -"),
        "{errors}"
    );
    assert!(
        errors
            .contains("error: tsconfig.json:4:21: invalid YAML: did not find expected ',' or '}'"),
        "{errors}"
    );
    assert!(!errors.contains("nats.json"), "{errors}");
    // A chart's template named explicitly, and a file that only a chart could have
    // written even though it is valid YAML.
    let output = run_in(
        &root(),
        &[
            "lint",
            "fixtures/charts/nats-app/templates/configmap.yaml",
            "fixtures/inputs/helm-template.yaml",
        ],
        None,
    );
    let errors = output.stderr.clone();
    assert!(
        errors
            .contains("fixtures/charts/nats-app/templates/configmap.yaml:4:9: unrendered template"),
        "{errors}"
    );
    assert!(
        errors.contains("fixtures/inputs/helm-template.yaml:4:9: unrendered template"),
        "{errors}"
    );
    // Alerts and Argo parameters are not Helm: a named file with them is judged.
    let output = run_in(&fixture, &["lint", "deploy/alerts.yaml"], None);
    assert_eq!(output.code, 0, "{}", output.stderr.clone());
}

#[test]
fn utf16_and_utf32_with_a_byte_order_mark_are_read() {
    let directory = root().join("fixtures/inputs/encodings");
    for name in [
        "utf8.yaml",
        "utf8-bom.yaml",
        "utf16le.yaml",
        "utf16be.yaml",
        "utf32le.yaml",
        "utf32be.yaml",
    ] {
        let output = run_in(&directory, &["lint", "--format", "json", name], None);
        assert_eq!(output.code, 1, "{name}: {}", output.stderr.clone());
        assert_eq!(
            output.findings(),
            [("ND101".to_string(), name.to_string(), 8, 13)],
            "{name}"
        );
        // The source line is shown from the decoded text.
        let text = run_in(&directory, &["lint", "--color", "never", name], None);
        assert!(
            text.stdout
                .as_str()
                .contains("8 |   NATS_URL: \"nats://10.42.0.17:4222\""),
            "{name}: {}",
            text.stdout.as_str()
        );
    }
    // Without a byte order mark, UTF-16 is NUL bytes: a binary file, named, an error
    // at the first NUL; walked, skipped.
    let output = run_in(&directory, &["lint", "utf16le-no-bom.yaml"], None);
    assert_eq!(output.code, 2);
    assert!(
        output
            .stderr
            .clone()
            .contains("utf16le-no-bom.yaml:1:2: binary file"),
        "{}",
        output.stderr.clone()
    );
    let output = run_in(&directory, &["lint", "--format", "json", "."], None);
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    assert_eq!(report["summary"]["files"], 6);
    assert_eq!(report["summary"]["skipped"]["unparsable"], 1);
}

#[test]
fn a_missing_env_file_is_a_note_unless_it_is_required() {
    let directory = root().join("fixtures/inputs/compose-env-file");
    let output = run_in(
        &directory,
        &["lint", "--format", "json", "docker-compose.yml"],
        None,
    );
    let errors = output.stderr.clone();
    assert_eq!(output.code, 2, "{errors}");
    assert_eq!(
        errors.lines().collect::<Vec<_>>(),
        [
            "error: docker-compose.yml:17:15: env_file `strict.env` does not exist, and is marked `required: true`",
            "note: docker-compose.yml:6:15: env_file `missing.env` does not exist (it is usually created at deploy time); its variables are not linted for service extractor",
        ],
        "optional.env, marked required: false, is passed over"
    );
    // The env file that is there is read and judged.
    assert_eq!(
        output.findings(),
        [("ND101".to_string(), "present.env".to_string(), 1, 10)]
    );
    // Notes go to standard error in every format; the exit code is the findings'.
    std::fs::create_dir_all(std::env::temp_dir()).expect("temp");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  a:\n    env_file: .env\n    environment:\n      NATS_URL: nats://nats:4222\n",
    )
    .expect("write");
    for format in ["text", "json", "sarif", "github"] {
        let output = run_in(dir.path(), &["lint", "--format", format, "."], None);
        assert_eq!(output.code, 0, "{format}: {}", output.stderr.clone());
        assert!(
            output
                .stderr
                .clone()
                .starts_with("note: ./docker-compose.yml:3:15"),
            "{format}"
        );
        assert!(!output.stdout.as_str().contains("note:"), "{format}");
    }
}

#[test]
fn a_walk_skips_devices_and_fifos_and_a_named_fifo_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        root().join("fixtures/examples/petrosa.yaml"),
        dir.path().join("petrosa.yaml"),
    )
    .expect("copy");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).expect("link");
    let fifo = dir.path().join("fifo.yaml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    std::os::unix::fs::symlink(&fifo, dir.path().join("to-fifo.yaml")).expect("link");
    let started = std::time::Instant::now();
    let output = run_in(dir.path(), &["lint", "--format", "json", ".", "-v"], None);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["skipped"]["not-a-regular-file"], 3);
    let errors = output.stderr.clone();
    assert!(
        errors.contains("skipped: ./zero.yaml: not a regular file (a character device)"),
        "{errors}"
    );
    assert!(
        errors.contains("./to-fifo.yaml: not a regular file (a FIFO)"),
        "{errors}"
    );

    // A process substitution is a pipe named on the command line: read, within the limit.
    let output = nats_doctor(["lint", "--format", "json"])
        .through([
            "bash",
            "-c",
            r#"exec "$0" "$@" <(cat fixtures/examples/petrosa.yaml)"#,
        ])
        .current_dir(root())
        .run();
    let report = output.json();
    assert_eq!(output.code, 1, "{}", output.stderr.clone());
    assert!(!findings(&report).is_empty(), "{report}");
    assert!(
        findings(&report)
            .iter()
            .all(|(_, file, _, _)| file.starts_with("/dev/fd/")),
        "{report}"
    );
}
