//! `check` against real, healthy servers: a bare address, and a pod-like setup where the
//! Service name goes through the pod's resolv.conf search list on a loopback DNS server.
mod support;

use std::time::Duration;
use support::dns_server::{pod_resolv_conf, DnsServer};
use support::nats_server::NatsServer;
use support::{assert_within, check};

#[test]
fn passes_against_a_local_server() {
    let server = NatsServer::plain();
    let url = server.url();
    let run = check(&["--format", "json"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["version"], 1);
    assert_eq!(report["ok"], true);
    assert_eq!(report["url"], url);
    let names: Vec<_> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["config", "url", "dns", "tcp", "nats", "roundtrip"]);
    assert_eq!(run.status("config"), "pass");
    assert_eq!(run.status("url"), "pass");
    assert_eq!(run.status("dns"), "skip", "an IP literal is not resolved");
    assert_eq!(run.status("tcp"), "pass");
    assert_eq!(run.status("nats"), "pass");
    assert_eq!(run.status("roundtrip"), "pass");
    assert!(run.runbook().is_empty());
    let config = run.step("config");
    assert_eq!(config["detail"]["NATS_URL"]["source"], "env");
    assert_eq!(config["detail"]["NATS_ENABLED"]["source"], "default");
    let nats = run.step("nats");
    let info = &nats["detail"]["addresses"][0]["info"];
    assert_eq!(
        info["version"].as_str().map(|v| v.starts_with('2')),
        Some(true)
    );
    assert_eq!(info["max_payload"], 1048576);
    assert!(!info["tls_required"].as_bool().unwrap_or(false));
    assert!(nats["detail"]["addresses"][0]["rtt_ms"].as_f64().is_some());
    let roundtrip = run.step("roundtrip");
    assert_eq!(roundtrip["detail"]["count"], 10);
    assert_eq!(roundtrip["detail"]["received"], 10);
    assert!(roundtrip["detail"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("_nats_doctor."));
    let rtt = &roundtrip["detail"]["rtt_ms"];
    assert!(rtt["min"].as_f64().unwrap() <= rtt["p50"].as_f64().unwrap());
    assert!(rtt["p50"].as_f64().unwrap() <= rtt["p99"].as_f64().unwrap());
    assert_within(&run, Duration::from_secs(2));
}

#[test]
fn text_report_and_count_and_subject() {
    let server = NatsServer::plain();
    let run = check(
        &[
            "--url",
            &server.url(),
            "--count",
            "25",
            "--subject",
            "doctor.test.one",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("PASS roundtrip"), "{}", run.stdout);
    assert!(run.stdout.contains("25/25 messages"), "{}", run.stdout);
    assert!(run.stdout.contains("doctor.test.one"), "{}", run.stdout);
    assert!(
        run.stdout.contains("OK: this service reaches NATS"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("NATS_URL="), "{}", run.stdout);
    assert!(run.stdout.contains("(flag)"), "{}", run.stdout);
}

#[test]
fn pod_like_setup_resolves_through_the_search_list() {
    let dns = DnsServer::start();
    let server = NatsServer::plain();
    let dir = tempfile::tempdir().unwrap();
    let resolv = pod_resolv_conf(dir.path(), "petrosa-apps");
    let url = format!("nats://nats-server.nats:{}", server.port);
    let run = check(
        &[
            "--format",
            "json",
            "--resolv-conf",
            resolv.to_str().unwrap(),
            "--nameserver",
            &dns.nameserver(),
            "--no-system-resolver",
        ],
        &[("NATS_URL", &url), ("POD_NAMESPACE", "petrosa-apps")],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.status("dns"), "pass", "{}", run.stdout);
    let host = &run.step("dns")["detail"]["hosts"][0];
    let tried: Vec<_> = host["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        tried,
        [
            (
                "nats-server.nats.petrosa-apps.svc.cluster.local.".to_string(),
                "nxdomain".to_string()
            ),
            (
                "nats-server.nats.svc.cluster.local.".to_string(),
                "answered".to_string()
            ),
        ]
    );
    assert_eq!(host["answered_by"], "nats-server.nats.svc.cluster.local.");
    assert_eq!(host["addresses"][0], "127.0.0.1");
    assert!(host["candidates"][1]["records"][0]
        .as_str()
        .unwrap()
        .contains("A 127.0.0.1"));
    let resolver = &run.step("dns")["detail"]["resolver"];
    assert_eq!(resolver["ndots"], 5);
    assert_eq!(resolver["search"][0], "petrosa-apps.svc.cluster.local");
    assert_eq!(run.status("roundtrip"), "pass");
    // The same run as text, the way an on-call engineer sees it.
    let text = check(
        &[
            "--resolv-conf",
            resolv.to_str().unwrap(),
            "--nameserver",
            &dns.nameserver(),
            "--no-system-resolver",
        ],
        &[("NATS_URL", &url), ("POD_NAMESPACE", "petrosa-apps")],
    );
    assert_eq!(text.code, 0, "{}", text.stdout);
    assert!(
        text.stdout
            .contains("nats-server.nats.svc.cluster.local. answered"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("PASS dns"), "{}", text.stdout);
}

#[test]
fn messaging_disabled_stops_after_config() {
    let run = check(
        &["--format", "json"],
        &[
            ("NATS_ENABLED", "False"),
            ("NATS_URL", "nats://127.0.0.1:1"),
        ],
    );
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["ok"], true);
    assert!(run.step("config")["summary"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    for step in ["url", "dns", "tcp", "nats", "roundtrip"] {
        assert_eq!(run.status(step), "skip");
    }
    let text = check(&[], &[("NATS_ENABLED", "false")]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.contains("messaging is disabled"),
        "{}",
        text.stdout
    );
}

#[test]
fn env_file_overrides_the_environment() {
    let server = NatsServer::plain();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    std::fs::write(
        &file,
        format!(
            "NATS_URL={}\nNATS_SUBJECT_PREFIX=custom.prefix\n",
            server.url()
        ),
    )
    .unwrap();
    let run = check(
        &["--format", "json", "--env-file", file.to_str().unwrap()],
        &[("NATS_URL", "nats://127.0.0.1:1")],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let config = run.step("config");
    assert_eq!(config["detail"]["NATS_URL"]["source"], "env_file");
    assert_eq!(
        config["detail"]["NATS_SUBJECT_PREFIX"]["value"],
        "custom.prefix"
    );
}

#[test]
fn usage_errors_exit_2() {
    let run = check(&["--timeout", "soon"], &[]);
    assert_eq!(run.code, 2);
    let run = check(&["--count", "0"], &[]);
    assert_eq!(run.code, 2);
    let run = check(&["--env-file", "/nonexistent/app.env"], &[]);
    assert_eq!(run.code, 2);
}

/// Masks what changes from run to run in check's text and JSON: the port, every timing,
/// the server's identity, version and client id, and the random part of the subject.
fn check_settings(port: u16) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&format!(r"127\.0\.0\.1:{port}\b"), "127.0.0.1:[port]");
    settings.add_filter(&format!(r#""port": {port}\b"#), r#""port": "[port]""#);
    // Text: the step lines' timing, right-aligned in nine columns after the name in
    // nine, then every other `0.4 ms` (PING/PONG, the round trip, the total).
    settings.add_filter(r"(?m)^(\S{4} .{9}) +\d+\.\d ms  ", "$1    [ms] ms  ");
    settings.add_filter(r"\b\d+\.\d+ ms\b", "[ms] ms");
    // JSON: every `*_ms` timing and the round trip's percentiles, but not the timeout.
    settings.add_filter(
        r#""(duration_ms|rtt_ms|min|max|p50|p99)": \d+(\.\d+)?"#,
        r#""$1": "[ms]""#,
    );
    settings.add_filter(r"\bN[A-Z0-9]{55}\b", "[server id]");
    settings.add_filter(r"nats-server \d+\.\d+\.\d+", "nats-server [version]");
    settings.add_filter(r#""version": "\d+\.\d+\.\d+""#, r#""version": "[version]""#);
    settings.add_filter(r#""go": "go[^"]+""#, r#""go": "[go]""#);
    settings.add_filter(r#""client_id": \d+"#, r#""client_id": "[id]""#);
    settings.add_filter(r"_nats_doctor\.[A-Za-z0-9]{22}\b", "_nats_doctor.[random]");
    settings
}

#[test]
fn text_and_json_formats_against_a_real_server() {
    let server = NatsServer::plain();
    let port = server.port;
    let url = server.url();
    for format in ["text", "json"] {
        let run = check(&["--format", format], &[("NATS_URL", &url)]);
        assert_eq!(run.code, 0, "{}", run.all());
        check_settings(port)
            .bind(|| insta::assert_snapshot!(format!("check_pass_{format}"), run.stdout));
    }
}

#[test]
fn text_and_json_formats_of_a_refused_connection() {
    let (port, _closed) = support::listener::closed_port();
    let url = format!("nats://127.0.0.1:{port}");
    for format in ["text", "json"] {
        let run = check(&["--format", format], &[("NATS_URL", &url)]);
        assert_eq!(run.code, 1, "{}", run.all());
        check_settings(port)
            .bind(|| insta::assert_snapshot!(format!("check_refused_{format}"), run.stdout));
    }
}
