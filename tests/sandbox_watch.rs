//! `watch --sandbox` and `test-messaging` meet, against a real `nats-server` on
//! loopback: the watch command test-messaging prints is run as printed, and it sees the
//! next sandbox run's four events, each valid against that run's prefix; a watch of the
//! live prefix sees none of them.
mod support;

use serde_json::Value;
use support::nats_server::{Auth, NatsServer, PASSWORD, USER};
use support::run::Doctor;
use support::watch::Watch;

/// The binary through the tests' runner (an empty environment, both streams scanned for
/// secrets), without colours.
fn command(args: &[&str]) -> Doctor {
    support::nats_doctor(args).env("NO_COLOR", "1")
}

/// Standard output of a watch to the end (it ends by its --count or --duration), as
/// JSON lines, and the exit code.
fn finish(watch: Watch) -> (Option<i32>, Vec<Value>) {
    let (code, stdout) = watch.finish();
    let lines = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    (code, lines)
}

fn test_messaging(args: &[&str]) -> Value {
    let run = command(&[&["test-messaging", "--format", "json"], args].concat()).run();
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).expect("one JSON document")
}

/// The words of a printed command after `nats-doctor`, up to a trailing comment.
fn printed_arguments(command: &str) -> Vec<String> {
    let command = command.split("   #").next().expect("a command");
    let mut words = command.split_whitespace().map(str::to_string);
    assert_eq!(words.next().as_deref(), Some("nats-doctor"), "{command}");
    words.collect()
}

#[test]
fn the_printed_watch_command_sees_the_next_sandbox_run() {
    let server = NatsServer::plain();
    let url = server.url();
    let first = test_messaging(&["--url", &url]);
    let printed = first["watch"].as_str().expect("watch command");
    assert_eq!(printed, format!("nats-doctor watch --sandbox --url {url}"));

    let mut arguments = printed_arguments(printed);
    arguments.extend(["--count", "4", "--duration", "10s", "--format", "json"].map(String::from));
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let sandbox = Watch::start(command(&arguments));
    // Where the services publish: a sandbox run must not reach it.
    let live = Watch::start(command(&[
        "watch",
        "--url",
        &url,
        "--duration",
        "1s",
        "--format",
        "json",
    ]));

    let second = test_messaging(&["--url", &url]);
    let prefix = second["prefix"].as_str().expect("prefix");
    assert_ne!(prefix, first["prefix"].as_str().expect("prefix"));

    let (code, lines) = finish(sandbox);
    assert_eq!(code, Some(0), "{lines:?}");
    let events: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("subject").is_some())
        .collect();
    assert_eq!(events.len(), 4, "{lines:?}");
    let published: Vec<&str> = second["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| case["subject"].as_str().expect("subject"))
        .collect();
    for event in &events {
        assert_eq!(event["valid"], true, "{event}");
        let subject = event["subject"].as_str().expect("subject");
        assert!(
            published.contains(&subject),
            "{subject} not in {published:?}"
        );
    }
    let summary = &lines.last().expect("summary")["summary"];
    assert_eq!(summary["valid"], 4, "{lines:?}");

    let (code, lines) = finish(live);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(lines.len(), 1, "only the summary: {lines:?}");
    assert_eq!(lines[0]["summary"]["received"], 0, "{lines:?}");
}

#[test]
fn a_sandbox_watch_flags_a_message_outside_the_layout() {
    let server = NatsServer::plain();
    let url = server.url();
    let watch = Watch::start(command(&[
        "watch",
        "--sandbox",
        "--url",
        &url,
        "--count",
        "1",
        "--duration",
        "10s",
        "--format",
        "json",
    ]));
    // One token too many after the run's sandbox prefix.
    let mut client = support::client::TestClient::connect(server.port);
    let payload = br#"{"event_type":"extraction_completed"}"#;
    client.publish(
        "_nats_doctor.run1.binance.extraction.klines.BTCUSDT.15m.extra",
        &[],
        payload,
    );
    client.flush();
    let (code, lines) = finish(watch);
    assert_eq!(code, Some(1), "{lines:?}");
    let problems = lines[0]["problems"].to_string();
    assert!(problems.contains("subject-layout"), "{problems}");
    assert!(
        problems.contains("_nats_doctor.run1.binance.extraction.{type}"),
        "validated against the run's prefix: {problems}"
    );
}

#[test]
fn the_live_watch_command_and_credentials() {
    let server = NatsServer::with_auth(Auth::UserPassword);
    let url = server.url();
    let report = test_messaging(&[
        "--url",
        &url,
        "--live",
        "--user",
        USER,
        "--password",
        PASSWORD,
    ]);
    let printed = report["watch"].as_str().expect("watch command");
    assert_eq!(
        printed,
        format!("nats-doctor watch --url {url} --user {USER}   # and the --password you gave")
    );
    assert!(!printed.contains(PASSWORD));

    // Credentials in the URL are masked, as everywhere.
    let with_credentials = url.replacen("nats://", &format!("nats://{USER}:{PASSWORD}@"), 1);
    let report = test_messaging(&["--url", &with_credentials]);
    let printed = report["watch"].as_str().expect("watch command");
    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(printed.contains(&format!("{USER}:***@")), "{printed}");

    // The text report ends with it.
    let text = command(&[
        "test-messaging",
        "--url",
        &url,
        "--user",
        USER,
        "--password",
        PASSWORD,
    ])
    .run()
    .stdout;
    let last = text.lines().last().expect("a line");
    assert!(
        last.starts_with("watch sandbox runs as a consumer would")
            && last.ends_with(&format!("nats-doctor watch --sandbox --url {url} --user {USER}   # and the --password you gave")),
        "{text}"
    );
    assert!(!text.contains(PASSWORD));
}

#[test]
fn sandbox_and_a_subject_exclude_each_other() {
    let run = command(&["watch", "--sandbox", "binance.extraction.>"]).run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}
