//! Credentials, TLS and permissions, against real nats-server instances configured for
//! each case. Every run also checks that no secret reaches the output.
mod support;

use std::time::Duration;
use support::nats_server::{self, Auth, NatsServer, Options};
use support::{assert_within, check};

#[test]
fn token_missing_is_an_authorization_violation() {
    let server = NatsServer::with_auth(Auth::Token);
    let run = check(&["--format", "json"], &[("NATS_URL", &server.url())]);
    assert_eq!(run.code, 1);
    assert_eq!(run.status("nats"), "fail");
    assert_eq!(run.diagnosis(), "authorization_violation");
    assert!(run.step("nats")["summary"]
        .as_str()
        .unwrap()
        .contains("Authorization Violation"));
    assert_eq!(run.status("roundtrip"), "skip");
    assert_eq!(run.runbook(), ["Credentials and permissions"]);
    assert_within(&run, Duration::from_secs(3));
}

#[test]
fn token_from_url_flag_or_variable_is_used_and_masked() {
    let server = NatsServer::with_auth(Auth::Token);
    let in_url = format!("nats://{}@127.0.0.1:{}", nats_server::TOKEN, server.port);
    let run = check(&["--format", "json"], &[("NATS_URL", &in_url)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.json()["url"],
        format!("nats://***@127.0.0.1:{}", server.port)
    );
    assert_eq!(
        run.step("nats")["detail"]["addresses"][0]["auth_source"],
        "URL userinfo"
    );
    let run = check(
        &["--format", "json", "--token", nats_server::TOKEN],
        &[("NATS_URL", &server.url())],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = check(
        &[],
        &[
            ("NATS_URL", &server.url()),
            ("NATS_TOKEN", nats_server::TOKEN),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("PASS nats"));
}

#[test]
fn user_and_password_from_url_reach_the_rust_client() {
    // async-nats ignores userinfo in URLs (the Rust services do not see it); the check
    // takes it out of the URL and puts it into CONNECT.
    let server = NatsServer::with_auth(Auth::UserPassword);
    let url = format!(
        "nats://{}:{}@127.0.0.1:{}",
        nats_server::USER,
        nats_server::PASSWORD,
        server.port
    );
    let run = check(&["--format", "json"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.status("roundtrip"), "pass");
    assert!(run.stdout.contains(&format!("{}:***@", nats_server::USER)));
    let run = check(
        &["--user", nats_server::USER, "--password", "wrong-password"],
        &[("NATS_URL", &server.url())],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("Authorization Violation"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("wrong-password"));
    let run = check(
        &[],
        &[
            ("NATS_URL", &server.url()),
            ("NATS_USER", nats_server::USER),
            ("NATS_PASSWORD", nats_server::PASSWORD),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn tls_with_the_ca_passes_and_without_it_fails() {
    let server = NatsServer::start(Options {
        tls: true,
        ..Options::default()
    });
    let files = server.tls.clone().unwrap();
    let url = format!("tls://127.0.0.1:{}", server.port);
    let run = check(
        &["--format", "json", "--tls-ca", files.ca.to_str().unwrap()],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let info = &run.step("nats")["detail"]["addresses"][0]["info"];
    assert_eq!(info["tls_required"], true);
    assert_eq!(run.status("roundtrip"), "pass");
    let run = check(&["--format", "json"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.diagnosis(), "tls_error", "{}", run.stdout);
    assert!(run.step("nats")["summary"]
        .as_str()
        .unwrap()
        .contains("--tls-ca"));
    assert!(run
        .runbook()
        .contains(&"Credentials and permissions".to_string()));
    assert_within(&run, Duration::from_secs(4));
}

#[test]
fn publish_permission_violation_is_named() {
    let server = NatsServer::with_auth(Auth::PublishDenied);
    let url = format!(
        "nats://{}:{}@127.0.0.1:{}",
        nats_server::LIMITED_USER,
        nats_server::LIMITED_PASSWORD,
        server.port
    );
    let run = check(
        &["--format", "json", "--timeout", "5s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("nats"), "pass");
    let roundtrip = run.step("roundtrip");
    assert_eq!(roundtrip["status"], "fail");
    assert_eq!(roundtrip["detail"]["problem"], "permissions_violation");
    assert!(roundtrip["summary"]
        .as_str()
        .unwrap()
        .contains("Permissions Violation for Publish"));
    assert_eq!(run.runbook(), ["Credentials and permissions"]);
    // Named as soon as the server says so, not after the 5 s time limit.
    assert_within(&run, Duration::from_millis(2500));
}

#[test]
fn subscribe_permission_violation_is_named() {
    let server = NatsServer::with_auth(Auth::SubscribeDenied);
    let url = format!(
        "nats://{}:{}@127.0.0.1:{}",
        nats_server::LIMITED_USER,
        nats_server::LIMITED_PASSWORD,
        server.port
    );
    let run = check(
        &["--format", "json", "--timeout", "5s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let roundtrip = run.step("roundtrip");
    assert_eq!(roundtrip["detail"]["problem"], "permissions_violation");
    assert!(roundtrip["summary"]
        .as_str()
        .unwrap()
        .contains("Permissions Violation for Subscription"));
    assert_within(&run, Duration::from_millis(2500));
}

#[test]
fn nkey_seed_file_from_flag_or_variable() {
    let user = nkeys::KeyPair::new_user();
    let server = NatsServer::with_auth(Auth::Nkey(user.public_key()));
    let seed_file = server.dir().join("user.nk");
    std::fs::write(&seed_file, user.seed().unwrap()).unwrap();
    let seed_path = seed_file.to_str().unwrap();
    let run = check(
        &["--format", "json", "--nkey", seed_path],
        &[("NATS_URL", &server.url())],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.status("roundtrip"), "pass");
    assert!(!run.stdout.contains(&user.seed().unwrap()));
    let run = check(
        &["--format", "json"],
        &[("NATS_URL", &server.url()), ("NATS_NKEY", seed_path)],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.step("nats")["detail"]["addresses"][0]["auth_source"],
        "NATS_NKEY"
    );
    // Without the seed the server refuses, by name.
    let run = check(&["--format", "json"], &[("NATS_URL", &server.url())]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.step("nats")["detail"]["diagnoses"][0],
        "authorization_violation"
    );
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let server = NatsServer::start(Options {
        tls: true,
        tls_verify: true,
        ..Options::default()
    });
    let files = server.tls.clone().unwrap();
    let url = format!("tls://127.0.0.1:{}", server.port);
    let run = check(
        &[
            "--format",
            "json",
            "--tls-ca",
            files.ca.to_str().unwrap(),
            "--tls-cert",
            files.client_cert.to_str().unwrap(),
            "--tls-key",
            files.client_key.to_str().unwrap(),
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.step("nats")["detail"]["addresses"][0]["info"]["tls_verify"],
        true
    );
    let run = check(
        &[
            "--format",
            "json",
            "--timeout",
            "1s",
            "--tls-ca",
            files.ca.to_str().unwrap(),
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("nats"), "fail");
    assert!(run.step("nats")["summary"]
        .as_str()
        .unwrap()
        .contains("--tls-cert"));
    assert_within(&run, Duration::from_secs(2));
}

#[test]
fn quiet_prints_only_what_failed() {
    let server = NatsServer::with_auth(Auth::Token);
    let run = check(&["-q"], &[("NATS_URL", &server.url())]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("FAIL nats"), "{}", run.stdout);
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Credentials and permissions"),
        "{}",
        run.stdout
    );
    let healthy = NatsServer::plain();
    let run = check(&["-q"], &[("NATS_URL", &healthy.url())]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
