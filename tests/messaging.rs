//! `test-messaging` and `watch` against real `nats-server` processes on loopback: the
//! binary is run as a user runs it, and a second client (`support::client`) publishes
//! or listens beside it.
mod support;

use nats_doctor::events::{self, ProblemCode};
use nats_doctor::nats::Message;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::client::TestClient;
use support::nats_server::{Auth, NatsServer, LIMITED_PASSWORD, LIMITED_USER};
use support::watch::Watch;
use support::{nats_doctor, Run};

const LIVE_PREFIX: &str = "binance.extraction";
/// Runs `nats-doctor ARGS` (from an empty environment: none of the caller's NATS
/// settings reach it).
fn run(args: &[&str]) -> Run {
    nats_doctor(args).run()
}

fn problem_codes(case: &Value) -> Vec<String> {
    case["problems"]
        .as_array()
        .expect("problems array")
        .iter()
        .map(|problem| problem["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn test_messaging_receives_and_verifies_every_case() {
    let server = NatsServer::plain();
    let started = Instant::now();
    let output = run(&["test-messaging", "--url", &server.url(), "--format", "json"]);
    let wall = started.elapsed();
    assert_eq!(output.code, 0, "{output:?}");
    let report = output.json();
    assert_eq!(report["version"], 1);
    assert_eq!(report["ok"], true);
    assert_eq!(report["live"], false);
    let prefix = report["prefix"].as_str().expect("prefix");
    assert!(
        prefix.starts_with("_nats_doctor.") && prefix.ends_with(".binance.extraction"),
        "{prefix}"
    );
    let cases = report["cases"].as_array().expect("cases");
    let names: Vec<&str> = cases
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["single", "batch", "error", "gap-filling"]);
    let subjects: Vec<String> = cases
        .iter()
        .map(|c| c["subject"].as_str().expect("subject").to_string())
        .collect();
    assert_eq!(
        subjects,
        [
            format!("{prefix}.klines.BTCUSDT.15m"),
            format!("{prefix}.klines.batch.15m"),
            format!("{prefix}.klines.INVALIDUSDT.15m"),
            format!("{prefix}.klines_gap_filling.BTCUSDT.15m"),
        ]
    );
    for case in cases {
        assert_eq!(case["status"], "pass", "{case}");
        assert!(
            case["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
            "{case}"
        );
        assert_eq!(problem_codes(case), Vec::<String>::new());
    }
    // No sleeps: the whole run, process start included, is far below one timeout.
    assert!(wall < Duration::from_secs(2), "took {wall:?}");
}

#[test]
fn test_messaging_text_has_one_line_per_case() {
    let server = NatsServer::plain();
    let output = run(&["test-messaging", "--url", &server.url(), "--color", "never"]);
    assert_eq!(output.code, 0, "{output:?}");
    let text = output.stdout;
    for name in ["single", "batch", "error", "gap-filling"] {
        assert_eq!(
            text.lines()
                .filter(|line| line.starts_with("PASS") && line.contains(&format!(" {name} ")))
                .count(),
            1,
            "{name}:\n{text}"
        );
    }
    assert!(text.contains("sandbox prefix _nats_doctor."), "{text}");
    assert!(text.contains("4 passed, 0 failed"), "{text}");
}

/// Collects what a subscriber on the live prefix receives while `action` runs, then
/// proves it has everything: a marker it publishes on its own connection comes back
/// only after every earlier delivery.
fn live_subscriber_sees(server: &NatsServer, action: impl FnOnce()) -> Vec<Message> {
    let mut client = TestClient::connect(server.port);
    client.subscribe(&format!("{LIVE_PREFIX}.>"));
    // The subscription is registered once our own marker comes back through it.
    let marker = format!("{LIVE_PREFIX}.marker.ready.now");
    client.publish(&marker, &[], b"ready");
    client.flush();
    assert_eq!(client.next_message().subject, marker);
    action();
    let end = format!("{LIVE_PREFIX}.marker.end.now");
    client.publish(&end, &[], b"end");
    client.flush();
    let mut seen = Vec::new();
    // Bounded: at most 100 messages before the end marker.
    loop {
        let message = client.next_message();
        if message.subject == end {
            break;
        }
        seen.push(message);
        assert!(seen.len() < 100, "unexpected flood on the live prefix");
    }
    seen
}

#[test]
fn sandbox_keeps_test_events_away_from_live_consumers() {
    let server = NatsServer::plain();
    let seen = live_subscriber_sees(&server, || {
        let output = run(&["test-messaging", "--url", &server.url()]);
        assert_eq!(output.code, 0, "{output:?}");
    });
    assert!(
        seen.is_empty(),
        "live consumers received {:?}",
        seen.iter()
            .map(|m| m.subject.to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn live_publishes_under_the_configured_prefix_with_the_test_header() {
    let server = NatsServer::plain();
    let mut report = Value::Null;
    let seen = live_subscriber_sees(&server, || {
        let output = run(&[
            "test-messaging",
            "--url",
            &server.url(),
            "--live",
            "--format",
            "json",
        ]);
        assert_eq!(output.code, 0, "{output:?}");
        report = output.json();
    });
    assert_eq!(report["live"], true);
    assert_eq!(report["prefix"], LIVE_PREFIX);
    let subjects: Vec<String> = seen.iter().map(|m| m.subject.to_string()).collect();
    assert_eq!(
        subjects,
        [
            "binance.extraction.klines.BTCUSDT.15m",
            "binance.extraction.klines.batch.15m",
            "binance.extraction.klines.INVALIDUSDT.15m",
            "binance.extraction.klines_gap_filling.BTCUSDT.15m",
        ]
    );
    for message in &seen {
        let header = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Nats-Doctor-Test"))
            .map(str::to_string);
        assert_eq!(header.as_deref(), Some("true"));
        let checked = events::validate(&message.subject, &message.payload, Some(LIVE_PREFIX));
        assert!(checked.is_valid(), "{:?}", checked.problems);
    }
    let live_text = run(&["test-messaging", "--url", &server.url(), "--live"]);
    let text = live_text.stdout.as_str();
    assert!(text.contains("LIVE"), "{text}");
    assert!(text.contains("binance.extraction"), "{text}");
}

#[test]
fn disabled_messaging_publishes_nothing_and_passes() {
    let server = NatsServer::plain();
    let seen = live_subscriber_sees(&server, || {
        let output = nats_doctor(["test-messaging", "--url", &server.url(), "--live"])
            .env("NATS_ENABLED", "false")
            .run();
        assert_eq!(output.code, 0, "{output:?}");
        let text = output.stdout.as_str();
        assert!(text.contains("messaging is disabled"), "{text}");
        let output = nats_doctor(["test-messaging", "--url", &server.url(), "--format", "json"])
            .env("NATS_ENABLED", "False ")
            .run();
        assert_eq!(output.code, 0, "{output:?}");
        let report = output.json();
        assert_eq!(report["ok"], true);
        assert_eq!(report["cases"], json!([]));
    });
    assert!(seen.is_empty());
}

#[test]
fn publish_permission_violation_is_named() {
    let server = NatsServer::with_auth(Auth::PublishDenied);
    let url = format!(
        "nats://{LIMITED_USER}:{LIMITED_PASSWORD}@127.0.0.1:{}",
        server.port
    );
    let started = Instant::now();
    let output = run(&["test-messaging", "--url", &url, "--format", "json"]);
    assert_eq!(output.code, 1, "{output:?}");
    // The refusal ends the wait; it does not run into the timeout.
    assert!(started.elapsed() < Duration::from_secs(2));
    let report = output.json();
    assert_eq!(report["ok"], false);
    for case in report["cases"].as_array().expect("cases") {
        assert_eq!(case["status"], "fail");
        assert_eq!(problem_codes(case), ["publish-denied"], "{case}");
        let message = case["problems"][0]["message"].as_str().expect("message");
        assert!(
            message.contains("Permissions Violation for Publish to")
                && message.contains(case["subject"].as_str().expect("subject")),
            "{message}"
        );
    }
    let text = run(&["test-messaging", "--url", &url, "--color", "never"]);
    let text = text.stdout.as_str();
    assert!(text.contains("publish-denied"), "{text}");
    assert!(
        !text.contains(LIMITED_PASSWORD),
        "password printed:\n{text}"
    );
    assert!(text.contains("limited:***@"), "{text}");
}

#[test]
fn subscribe_permission_violation_is_named() {
    let server = NatsServer::with_auth(Auth::SubscribeDenied);
    let output = run(&[
        "test-messaging",
        "--url",
        &server.url(),
        "--user",
        LIMITED_USER,
        "--password",
        LIMITED_PASSWORD,
        "--format",
        "json",
    ]);
    assert_eq!(output.code, 1, "{output:?}");
    let report = output.json();
    for case in report["cases"].as_array().expect("cases") {
        let codes = problem_codes(case);
        assert!(!codes.is_empty(), "{case}");
        assert!(
            codes.iter().all(|code| code == "subscribe-denied"),
            "{case}"
        );
    }
}

#[test]
fn unreachable_server_fails_without_publishing() {
    let (port, _closed) = support::listener::closed_port();
    let output = run(&[
        "test-messaging",
        "--url",
        &format!("nats://127.0.0.1:{port}"),
        "--timeout",
        "1s",
    ]);
    assert_eq!(output.code, 1, "{output:?}");
    let text = output.stdout.as_str();
    assert!(
        text.contains("FAIL") && text.contains("nothing published"),
        "{text}"
    );
    // The same words as check's tcp step, not the operating system's.
    assert!(
        text.contains(&format!(
            "nats://127.0.0.1:{port}: connection refused (nothing listens there)"
        )),
        "{text}"
    );
    let output = run(&[
        "watch",
        "--url",
        &format!("nats://127.0.0.1:{port}"),
        "--timeout",
        "1s",
    ]);
    assert_eq!(output.code, 1, "{output:?}");
    let stderr = output.stderr.as_str();
    assert!(
        stderr.contains("connection refused (nothing listens there)"),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
}

#[test]
fn settings_no_client_could_use_exit_2() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["test-messaging", "--url", "foo://x"],
            "the scheme `foo` is not one NATS clients accept",
        ),
        (
            &["watch", "--url", "foo://x"],
            "the scheme `foo` is not one NATS clients accept",
        ),
        (
            &["test-messaging", "--url", "nats://a:4222,,nats://b:4222"],
            "empty entry in the server list",
        ),
        (&["watch", "--url", "ws://127.0.0.1:1"], "not WebSocket"),
        (
            &["watch", "a b", "--url", "nats://127.0.0.1:1"],
            "\"a b\" is not a subject",
        ),
        (
            &[
                "test-messaging",
                "--url",
                "nats://127.0.0.1:1",
                "--creds",
                "/nonexistent/user.creds",
            ],
            "cannot read credentials file /nonexistent/user.creds",
        ),
    ];
    for (args, expected) in cases {
        let output = run(args);
        let stderr = output.stderr.as_str();
        assert_eq!(output.code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: {output:?}");
    }
    for subcommand in ["test-messaging", "watch"] {
        let output = nats_doctor([subcommand, "--url", "nats://127.0.0.1:1"])
            .env("NATS_SUBJECT_PREFIX", "binance..extraction")
            .run();
        let stderr = output.stderr.as_str();
        assert_eq!(output.code, 2, "{subcommand}: {stderr}");
        assert!(
            stderr.contains("NATS_SUBJECT_PREFIX \"binance..extraction\" has an empty token"),
            "{subcommand}: {stderr}"
        );
    }
}

fn publish_all(server: &NatsServer, messages: &[(String, Vec<u8>)]) {
    let mut client = TestClient::connect(server.port);
    for (subject, payload) in messages {
        client.publish(subject, &[], payload);
    }
    client.flush();
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn samples() -> Vec<(String, Vec<u8>)> {
    events::sample_events(LIVE_PREFIX, "2024-01-15T10:30:00.000Z")
        .expect("samples")
        .into_iter()
        .map(|sample| (sample.subject, sample.payload))
        .collect()
}

#[test]
fn watch_validates_the_documented_events() {
    let server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        "4",
        "--format",
        "json",
    ]));
    publish_all(&server, &samples());
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 5, "{text}");
    for (line, (subject, payload)) in lines.iter().zip(samples()) {
        assert_eq!(line["subject"], subject.as_str());
        assert_eq!(line["valid"], true);
        assert_eq!(line["problems"], json!([]));
        let published: Value = serde_json::from_slice(&payload).expect("json");
        assert_eq!(line["event"], published);
        let received_at = line["received_at"].as_str().expect("received_at");
        assert_eq!(nats_doctor::rfc3339::parse(received_at), Ok(()));
    }
    let summary = &lines[4]["summary"];
    assert_eq!(summary["received"], 4);
    assert_eq!(summary["valid"], 4);
    assert_eq!(summary["invalid"], 0);
    assert_eq!(summary["by_problem"], json!({}));
    assert!(summary["rate"].as_f64().is_some_and(|rate| rate > 0.0));
    let keys: Vec<&String> = summary.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["by_problem", "invalid", "rate", "received", "valid"]);
}

#[test]
fn watch_text_shows_one_line_per_event() {
    let server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        "4",
        "--color",
        "never",
    ]));
    publish_all(&server, &samples());
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    let events: Vec<&str> = text.lines().filter(|line| line.contains(" ok ")).collect();
    assert_eq!(events.len(), 4, "{text}");
    assert!(
        events[0].ends_with(
            "binance.extraction.klines.BTCUSDT.15m extraction_completed klines BTCUSDT 15m \
             records 150/150 3.5s success"
        ),
        "{}",
        events[0]
    );
    assert!(
        events[1].contains("BTCUSDT,ETHUSDT,BNBUSDT"),
        "{}",
        events[1]
    );
    assert!(events[2].ends_with("failed"), "{}", events[2]);
    assert!(text.contains("received 4, valid 4, invalid 0"), "{text}");
}

/// One message per invalid kind, each with the problem code it must produce.
fn invalid_messages() -> Vec<(ProblemCode, String, Vec<u8>)> {
    let single = || -> Value {
        serde_json::from_slice(
            &events::sample_events(LIVE_PREFIX, "2024-01-15T10:30:00.000Z").expect("samples")[0]
                .payload,
        )
        .expect("json")
    };
    let batch = || -> Value {
        serde_json::from_slice(
            &events::sample_events(LIVE_PREFIX, "2024-01-15T10:30:00.000Z").expect("samples")[1]
                .payload,
        )
        .expect("json")
    };
    let single_subject = "binance.extraction.klines.BTCUSDT.15m".to_string();
    let batch_subject = "binance.extraction.klines.batch.15m".to_string();
    let edit = |mut value: Value, pointer: &str, replacement: Value| -> Vec<u8> {
        *value.pointer_mut(pointer).expect("pointer") = replacement;
        serde_json::to_vec(&value).expect("json")
    };
    let mut without_period = single();
    without_period
        .as_object_mut()
        .expect("object")
        .remove("period");
    vec![
        (
            ProblemCode::CountNegative,
            single_subject.clone(),
            edit(single(), "/metrics/records_written", json!(-1)),
        ),
        (
            ProblemCode::CountNotInteger,
            single_subject.clone(),
            edit(single(), "/metrics/gaps_found", json!(1.5)),
        ),
        (
            ProblemCode::DurationNegative,
            single_subject.clone(),
            edit(single(), "/metrics/duration_seconds", json!(-3.5)),
        ),
        (
            ProblemCode::ErrorsMissing,
            single_subject.clone(),
            edit(single(), "/success", json!(false)),
        ),
        (
            ProblemCode::EventTypeUnknown,
            single_subject.clone(),
            edit(single(), "/event_type", json!("extraction_done")),
        ),
        (
            ProblemCode::ExtractionTypeUnknown,
            "binance.extraction.candles.BTCUSDT.15m".to_string(),
            edit(single(), "/extraction_type", json!("candles")),
        ),
        (
            ProblemCode::FieldMissing,
            single_subject.clone(),
            serde_json::to_vec(&without_period).expect("json"),
        ),
        (
            ProblemCode::FieldWrongType,
            single_subject.clone(),
            edit(single(), "/metrics/records_fetched", json!("150")),
        ),
        (
            ProblemCode::NotJson,
            single_subject.clone(),
            b"extraction finished for BTCUSDT".to_vec(),
        ),
        (
            ProblemCode::NotObject,
            single_subject.clone(),
            b"[\"BTCUSDT\"]".to_vec(),
        ),
        (
            ProblemCode::SubjectLayout,
            "binance.extraction.klines.BTCUSDT".to_string(),
            serde_json::to_vec(&single()).expect("json"),
        ),
        (
            ProblemCode::SubjectMismatch,
            "binance.extraction.klines.ETHUSDT.15m".to_string(),
            serde_json::to_vec(&single()).expect("json"),
        ),
        (
            ProblemCode::SymbolsCountMismatch,
            batch_subject,
            edit(batch(), "/metrics/symbols_processed", json!(5)),
        ),
        (
            ProblemCode::TimestampInvalid,
            single_subject,
            edit(single(), "/timestamp", json!("2024-01-15T10:30:00+00:00Z")),
        ),
    ]
}

#[test]
fn watch_reports_each_invalid_kind() {
    let server = NatsServer::plain();
    let invalid = invalid_messages();
    let mut messages = vec![samples()[0].clone()];
    messages.extend(
        invalid
            .iter()
            .map(|(_, subject, payload)| (subject.clone(), payload.clone())),
    );
    let count = messages.len().to_string();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        &count,
        "--format",
        "json",
    ]));
    publish_all(&server, &messages);
    let (code, text) = watch.finish();
    assert_eq!(code, Some(1), "{text}");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), messages.len() + 1, "{text}");
    assert_eq!(lines[0]["valid"], true);
    for (line, (code, subject, _)) in lines[1..].iter().zip(&invalid) {
        assert_eq!(line["subject"], subject.as_str());
        assert_eq!(line["valid"], false, "{line}");
        let codes: Vec<&str> = line["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .map(|problem| problem["code"].as_str().expect("code"))
            .collect();
        assert_eq!(codes, [code.as_str()], "{line}");
        let is_object = !matches!(code, ProblemCode::NotJson | ProblemCode::NotObject);
        assert_eq!(line["event"].is_object(), is_object, "{line}");
    }
    let summary = &lines[messages.len()]["summary"];
    assert_eq!(summary["received"], messages.len());
    assert_eq!(summary["valid"], 1);
    assert_eq!(summary["invalid"], invalid.len());
    let expected: BTreeMap<String, Value> = invalid
        .iter()
        .map(|(code, _, _)| (code.as_str().to_string(), json!(1)))
        .collect();
    assert_eq!(summary["by_problem"], json!(expected));
}

#[test]
fn watch_survives_non_json_and_huge_payloads() {
    // Room for payloads beyond the event limit but within what the server accepts.
    let server = NatsServer::start(support::nats_server::Options {
        extra: "max_payload: 4MB\n".to_string(),
        ..Default::default()
    });
    let subject = "binance.extraction.klines.BTCUSDT.15m".to_string();
    let huge_json = {
        let mut event: Value = serde_json::from_slice(&samples()[0].1).expect("json");
        event["padding"] = json!("x".repeat(3 * 1024 * 1024));
        serde_json::to_vec(&event).expect("json")
    };
    let huge_binary: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    // An extra field of 200 KiB is still below the event limit, and allowed.
    let big_valid = {
        let mut event: Value = serde_json::from_slice(&samples()[0].1).expect("json");
        event["trace"] = json!("y".repeat(200 * 1024));
        serde_json::to_vec(&event).expect("json")
    };
    let messages = vec![
        (subject.clone(), b"\x00\x01\x02 not json \xff".to_vec()),
        (subject.clone(), Vec::new()),
        (subject.clone(), huge_json),
        (subject.clone(), huge_binary),
        (subject.clone(), big_valid),
        samples()[0].clone(),
    ];
    for format in ["json", "text"] {
        let watch = Watch::start(nats_doctor([
            "watch",
            "--url",
            &server.url(),
            "--count",
            "6",
            "--format",
            format,
            "--color",
            "never",
        ]));
        publish_all(&server, &messages);
        let (code, text) = watch.finish();
        assert_eq!(code, Some(1), "{format}");
        if format == "text" {
            assert!(text.contains("payload-too-large"), "{text}");
            assert!(text.contains("received 6, valid 2, invalid 4"), "{text}");
            // The huge payloads are not echoed.
            assert!(text.len() < 10_000, "text output is {} bytes", text.len());
            continue;
        }
        let lines = json_lines(&text);
        let codes: Vec<Vec<&str>> = lines[..6]
            .iter()
            .map(|line| {
                line["problems"]
                    .as_array()
                    .expect("problems")
                    .iter()
                    .map(|problem| problem["code"].as_str().expect("code"))
                    .collect()
            })
            .collect();
        assert_eq!(
            codes,
            vec![
                vec!["not-json"],
                vec!["not-json"],
                vec!["payload-too-large"],
                vec!["payload-too-large"],
                vec![],
                vec![],
            ]
        );
        assert!(lines[2]["event"].is_null());
        assert_eq!(
            lines[4]["event"]["trace"].as_str().map(str::len),
            Some(200 * 1024)
        );
        assert_eq!(lines[6]["summary"]["invalid"], 4);
    }
}

#[test]
fn watch_pretty_printed_payload_stays_one_line() {
    let server = NatsServer::plain();
    let (subject, payload) = samples()[1].clone();
    let value: Value = serde_json::from_slice(&payload).expect("json");
    let pretty = serde_json::to_vec_pretty(&value)
        .expect("json")
        .into_iter()
        .flat_map(|b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect::<Vec<u8>>();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        "1",
        "--format",
        "json",
    ]));
    publish_all(&server, &[(subject, pretty)]);
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["event"], value);
}

#[test]
fn watch_given_subject_and_duration() {
    let server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "binance.extraction.klines.batch.*",
        "--url",
        &server.url(),
        "--duration",
        "300ms",
        "--format",
        "json",
    ]));
    publish_all(&server, &samples());
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    let lines = json_lines(&text);
    // Only the batch event matches the given subject.
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["subject"], "binance.extraction.klines.batch.15m");
    assert_eq!(lines[1]["summary"]["received"], 1);
}

#[test]
fn watch_uses_the_configured_prefix() {
    let server = NatsServer::plain();
    let env_file = tempfile::NamedTempFile::new().expect("env file");
    std::fs::write(
        env_file.path(),
        "NATS_SUBJECT_PREFIX=petrosa.binance.extraction\n",
    )
    .expect("write env file");
    let path = env_file.path().to_str().expect("utf-8 path").to_string();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--env-file",
        &path,
        "--count",
        "1",
        "--format",
        "json",
    ]));
    let sample = events::sample_events("petrosa.binance.extraction", "2024-01-15T10:30:00Z")
        .expect("samples")
        .remove(0);
    // A message under the documented default prefix is not under this watch.
    publish_all(
        &server,
        &[
            samples()[0].clone(),
            (sample.subject.clone(), sample.payload.clone()),
        ],
    );
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    let lines = json_lines(&text);
    assert_eq!(lines[0]["subject"], sample.subject.as_str());
    assert_eq!(lines[0]["valid"], true);
}

#[test]
fn watch_marks_test_events_from_test_messaging_valid() {
    let server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        "4",
        "--format",
        "json",
    ]));
    let output = run(&["test-messaging", "--url", &server.url(), "--live", "-q"]);
    assert_eq!(output.code, 0, "{output:?}");
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json_lines(&text)[4]["summary"]["valid"], 4);
}

#[test]
fn watch_subscription_denied_is_named() {
    let server = NatsServer::with_auth(Auth::SubscribeDenied);
    let output = run(&[
        "watch",
        "_nats_doctor.>",
        "--url",
        &server.url(),
        "--user",
        LIMITED_USER,
        "--password",
        LIMITED_PASSWORD,
        "--count",
        "1",
    ]);
    assert_eq!(output.code, 1, "{output:?}");
    let stderr = output.stderr.as_str();
    assert!(
        stderr.contains("Permissions Violation for Subscription to"),
        "{stderr}"
    );
}

#[test]
fn headers_do_not_disturb_validation() {
    // Producers may add headers (trace context); watch validates the payload only.
    let server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        "1",
        "--format",
        "json",
    ]));
    let (subject, payload) = samples()[0].clone();
    let mut client = TestClient::connect(server.port);
    client.publish(
        &subject,
        &[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )],
        &payload,
    );
    client.flush();
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn watch_prints_the_summary_on_interrupt() {
    let server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--format",
        "json",
    ]));
    publish_all(&server, &samples()[..2]);
    // Ctrl-C is SIGINT. Whether both events were read before it is not knowable from
    // outside, so the summary is checked against the lines printed, not a fixed count.
    watch.running.signal(libc::SIGINT);
    let (code, text) = watch.finish();
    assert_eq!(code, Some(0), "{text}");
    let lines = json_lines(&text);
    let summary = &lines.last().expect("summary line")["summary"];
    assert_eq!(summary["received"], lines.len() - 1, "{text}");
    assert_eq!(summary["invalid"], 0);
}

#[test]
fn watch_ends_when_the_server_stays_away_longer_than_the_reconnect_window() {
    let mut server = NatsServer::plain();
    let watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--timeout",
        "500ms",
        "--reconnect-window",
        "1s",
        "--color",
        "never",
    ]));
    let killed = Instant::now();
    server.kill();
    let (code, text, stderr) = watch.finish_with_stderr();
    let ended_after = killed.elapsed();
    assert_eq!(code, Some(1), "{text}{stderr}");
    assert!(
        text.contains("connection lost and not regained within 1s"),
        "{text}"
    );
    assert!(
        stderr.contains(&format!("disconnected from {}", server.url())),
        "{stderr}"
    );
    assert!(stderr.contains("reconnecting for up to 1s"), "{stderr}");
    // The window, then at most one attempt's time limit.
    assert!(
        ended_after >= Duration::from_secs(1) && ended_after < Duration::from_secs(3),
        "{ended_after:?}"
    );
}

#[test]
fn watch_reconnects_when_the_server_restarts() {
    let mut server = NatsServer::plain();
    let mut watch = Watch::start(nats_doctor([
        "watch",
        "--url",
        &server.url(),
        "--count",
        "2",
        "--format",
        "json",
    ]));
    let samples = samples();
    publish_all(&server, &samples[..1]);
    assert!(watch
        .stdout_line(|line| line.contains("\"valid\":true"))
        .is_some());
    server.restart();
    let reconnected = watch
        .stderr_line(|line| line.contains("reconnected to"))
        .expect("watch reconnects");
    assert!(
        reconnected.contains(&format!("reconnected to {}", server.url())),
        "{reconnected}"
    );
    publish_all(&server, &samples[1..2]);
    let (code, text, stderr) = watch.finish_with_stderr();
    // A disconnection may have cost messages, so the watch does not pass.
    assert_eq!(code, Some(1), "{text}{stderr}");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["subject"], samples[0].0.as_str());
    assert_eq!(lines[1]["subject"], samples[1].0.as_str());
    let summary = &lines[2]["summary"];
    assert_eq!(summary["received"], 2);
    assert_eq!(summary["valid"], 2);
    assert_eq!(summary["disconnections"], 1);
    assert!(
        summary["disconnected_seconds"]
            .as_f64()
            .is_some_and(|seconds| seconds > 0.0),
        "{summary}"
    );
    assert!(stderr.contains("disconnected from"), "{stderr}");
    assert!(stderr.contains("core NATS does not replay"), "{stderr}");
}
