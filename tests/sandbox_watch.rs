//! `watch --sandbox` and `test-messaging` meet, against a real `nats-server` on
//! loopback: the watch command test-messaging prints is run as printed, and it sees the
//! next sandbox run's four events, each valid against that run's prefix; a watch of the
//! live prefix sees none of them.
mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::nats_server::{Auth, NatsServer, PASSWORD, USER};

/// Upper bound for anything a test waits for; the commands finish in milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// The binary with exactly `PATH` as its environment, and `args`.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(support::binary());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// A watch that has announced its live subscription on standard error.
struct Watch {
    child: Child,
}

impl Watch {
    /// Starts `args` (a watch command line without the binary) and waits until the
    /// subscription is live.
    fn start(args: &[&str]) -> Watch {
        let mut child = command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start watch");
        let stderr = child.stderr.take().expect("stderr");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            match received.recv_timeout(PATIENCE) {
                Ok(line) if line.contains("watching ") => break,
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    panic!("watch {args:?} did not announce its subscription");
                }
            }
        }
        Watch { child }
    }

    /// Standard output to the end (the watch ends by its --count or --duration) and the
    /// exit code.
    fn finish(mut self) -> (Option<i32>, Vec<Value>) {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut stdout)
            .expect("read stdout");
        let status = self.child.wait().expect("wait");
        let lines = stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect();
        (status.code(), lines)
    }
}

fn test_messaging(args: &[&str]) -> Value {
    let output = command(&[&["test-messaging", "--format", "json"], args].concat())
        .output()
        .expect("run test-messaging");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("one JSON document")
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
    let sandbox = Watch::start(&arguments);
    // Where the services publish: a sandbox run must not reach it.
    let live = Watch::start(&[
        "watch",
        "--url",
        &url,
        "--duration",
        "1s",
        "--format",
        "json",
    ]);

    let second = test_messaging(&["--url", &url]);
    let prefix = second["prefix"].as_str().expect("prefix");
    assert_ne!(prefix, first["prefix"].as_str().expect("prefix"));

    let (code, lines) = sandbox.finish();
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

    let (code, lines) = live.finish();
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(lines.len(), 1, "only the summary: {lines:?}");
    assert_eq!(lines[0]["summary"]["received"], 0, "{lines:?}");
}

#[test]
fn a_sandbox_watch_flags_a_message_outside_the_layout() {
    let server = NatsServer::plain();
    let url = server.url();
    let watch = Watch::start(&[
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
    ]);
    // One token too many after the run's sandbox prefix.
    let mut client = support::client::TestClient::connect(server.port);
    let payload = br#"{"event_type":"extraction_completed"}"#;
    client.publish(
        "_nats_doctor.run1.binance.extraction.klines.BTCUSDT.15m.extra",
        &[],
        payload,
    );
    client.flush();
    let (code, lines) = watch.finish();
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
    let output = command(&[
        "test-messaging",
        "--url",
        &url,
        "--user",
        USER,
        "--password",
        PASSWORD,
    ])
    .output()
    .expect("run test-messaging");
    let text = String::from_utf8(output.stdout).expect("utf-8");
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
    let output = command(&["watch", "--sandbox", "binance.extraction.>"])
        .output()
        .expect("run watch");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
