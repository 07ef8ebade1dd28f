//! `check --format nagios` and `--format prometheus` against a real nats-server and
//! against a closed port: the exact output (timings and ports masked) and the exit codes
//! monitoring systems act on.
mod support;

use support::nats_server::NatsServer;
use support::{check, Run};

/// Masks what changes from run to run: the port, and every timing.
fn settings(port: u16) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&format!(r"127\.0\.0\.1:{port}\b"), "127.0.0.1:[port]");
    // Nagios perf data and messages: `0.0012s`.
    settings.add_filter(r"\b\d+\.\d{4}s\b", "[s]");
    // Prometheus samples of `*_seconds` metrics.
    settings.add_filter(
        r"(?m)^(nats_doctor_check_\w+_seconds(\{[^}]*\})?) \S+$",
        "$1 [s]",
    );
    settings.add_filter(r#"version="[^"]+""#, r#"version="[version]""#);
    settings
}

fn snapshot(name: &str, port: u16, run: &Run) {
    settings(port).bind(|| insta::assert_snapshot!(name, run.stdout.as_str()));
}

/// Every sample belongs to a family announced by HELP and TYPE lines, every name has
/// the prefix, every value parses.
fn assert_exposition(text: &str) {
    let mut announced = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            assert!(name.starts_with("nats_doctor_check_"), "{line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap_or_default();
            assert_eq!(parts.next(), Some("gauge"), "{line}");
            assert!(announced.insert(name.to_string()), "TYPE twice: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let name = series.split('{').next().unwrap_or_default();
        assert!(announced.contains(name), "sample before its TYPE: {line}");
        assert!(value.parse::<f64>().is_ok(), "value: {line}");
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
    }
}

#[test]
fn nagios_ok_against_a_local_server() {
    let server = NatsServer::plain();
    let run = check(&["--format", "nagios"], &[("NATS_URL", &server.url())]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    snapshot("nagios_ok", server.port, &run);
}

#[test]
fn nagios_thresholds_give_warning_and_critical() {
    let server = NatsServer::plain();
    let url = server.url();
    // Limits no connection can meet.
    let warning = check(
        &[
            "--format",
            "nagios",
            "--connect-warn",
            "0.001ms",
            "--rtt-warn",
            "0.001ms",
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(warning.code, 1, "{}", warning.stdout);
    assert!(warning
        .stdout
        .starts_with("WARNING nats-doctor Warn:connect time "));
    assert!(warning.stdout.contains(" Warn:rtt "), "{}", warning.stdout);
    assert!(
        warning.stdout.contains(";0.0000;1.0000 rtt="),
        "{}",
        warning.stdout
    );
    let critical = check(
        &[
            "--format",
            "nagios",
            "--connect-warn",
            "0.001ms",
            "--connect-critical",
            "0.002ms",
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(critical.code, 2, "{}", critical.stdout);
    assert!(
        critical
            .stdout
            .starts_with("CRITICAL nats-doctor Crit:connect time "),
        "{}",
        critical.stdout
    );
    // Generous limits: OK with the limits in the perf data.
    let ok = check(
        &[
            "--format",
            "nagios",
            "--connect-warn",
            "20s",
            "--connect-critical",
            "30s",
            "--rtt-warn",
            "20s",
            "--rtt-critical",
            "30s",
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(ok.stdout.contains(";20.0000;30.0000 rtt="), "{}", ok.stdout);
}

#[test]
fn nagios_closed_port_is_critical() {
    let (port, _closed) = support::listener::closed_port();
    let url = format!("nats://127.0.0.1:{port}");
    let run = check(&["--format", "nagios"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("CRITICAL "), "{}", run.stdout);
    snapshot("nagios_closed_port", port, &run);
}

#[test]
fn nagios_settings_that_cannot_be_read_are_unknown() {
    let run = check(
        &["--format", "nagios", "--env-file", "/nonexistent/nats.env"],
        &[],
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("UNKNOWN nats-doctor "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("/nonexistent/nats.env"),
        "{}",
        run.stdout
    );
}

#[test]
fn nagios_disabled_messaging_is_ok() {
    let run = check(&["--format", "nagios"], &[("NATS_ENABLED", "false")]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    insta::assert_snapshot!("nagios_disabled", run.stdout.as_str());
}

#[test]
fn nagios_output_never_breaks_the_line_or_shows_secrets() {
    let (port, _closed) = support::listener::closed_port();
    let url = format!("nats://user:hunter2secret@127.0.0.1:{port}|x");
    let run = check(&["--format", "nagios"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(!run.stdout.contains("hunter2secret"), "{}", run.stdout);
    assert_eq!(run.stdout.matches('|').count(), 0, "{}", run.stdout);
}

#[test]
fn prometheus_against_a_local_server() {
    let server = NatsServer::plain();
    let run = check(&["--format", "prometheus"], &[("NATS_URL", &server.url())]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_exposition(&run.stdout);
    snapshot("prometheus_ok", server.port, &run);
}

#[test]
fn prometheus_closed_port_reports_the_failure_and_exits_0() {
    let (port, _closed) = support::listener::closed_port();
    let url = format!("nats://127.0.0.1:{port}");
    let run = check(&["--format", "prometheus"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_exposition(&run.stdout);
    assert!(run.stdout.contains("\nnats_doctor_check_ok 0\n"));
    assert!(run.stdout.contains("\nnats_doctor_check_status_code 2\n"));
    assert!(run
        .stdout
        .contains("\nnats_doctor_check_step_status{step=\"tcp\",status=\"fail\"} 1\n"));
    assert!(!run.stdout.contains("nats_doctor_check_rtt_seconds"));
    snapshot("prometheus_closed_port", port, &run);
}

#[test]
fn prometheus_label_values_are_escaped() {
    let (port, _closed) = support::listener::closed_port();
    let url = format!("nats://127.0.0.1:{port},nats://we\"ird\\host:4222");
    let run = check(&["--format", "prometheus"], &[("NATS_URL", &url)]);
    assert_exposition(&run.stdout);
    let info = run
        .stdout
        .lines()
        .find(|line| line.starts_with("nats_doctor_check_info{"))
        .expect("info sample");
    assert!(info.contains(r#"we\"ird\\host"#), "{info}");
}

#[test]
fn prometheus_output_file_is_written_atomically() {
    let server = NatsServer::plain();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nats_doctor.prom");
    let path_text = path.to_str().expect("utf-8 path");
    let url = server.url();
    for _ in 0..2 {
        // The second run replaces the first file.
        let run = check(
            &["--format", "prometheus", "--output", path_text],
            &[("NATS_URL", &url)],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    let text = std::fs::read_to_string(&path).expect("the metrics file");
    assert_exposition(&text);
    assert!(text.contains("\nnats_doctor_check_ok 1\n"), "{text}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["nats_doctor.prom"], "no temporary file is left");

    let missing = dir.path().join("no-such-dir").join("x.prom");
    let run = check(
        &[
            "--format",
            "prometheus",
            "--output",
            missing.to_str().expect("utf-8"),
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no-such-dir"), "{}", run.stderr);
}
