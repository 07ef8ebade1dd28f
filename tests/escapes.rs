//! No output writes a control character from input or the network raw: an object named
//! `"\e]0;pwned\a\e[2J"` (which would retitle and clear the terminal), a server's
//! `-ERR` text and INFO fields, a subject and payload fields delivered by a real
//! `nats-server`, a file name and settings all appear escaped (`\x1b]0;pwned\x07`) in
//! every text output, and stay escapes in JSON. The only escape sequences allowed are
//! the colours nats-doctor writes itself. The runner (`support::run`) fails every run
//! whose standard output or error holds a raw control character; the tests here make
//! sure the hostile text really reached an output.
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::listener::{bind_loopback, Acceptor};
use support::nats_server::{Auth, NatsServer};
use support::{nats_doctor, Run};

/// Retitles and clears a terminal; then a right-to-left override.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}";
/// How it must be shown.
const SHOWN: &str = "\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}";

/// Runs `nats-doctor ARGS` with exactly `env` as its environment.
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    nats_doctor(args).envs(env).run()
}

/// YAML double-quoted escapes for the hostile text.
const YAML_HOSTILE: &str = "\\e]0;pwned\\a\\e[2J\\u202E";

fn hostile_manifests() -> String {
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: "{YAML_HOSTILE}"
  namespace: "{YAML_HOSTILE}"
data:
  NATS_URL: "nats://10.1.2.3:4222"
  NATS_SUBJECT_PREFIX: "a.{YAML_HOSTILE}..b"
  "{YAML_HOSTILE}": yes
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{YAML_HOSTILE}"
  namespace: apps
spec:
  template:
    spec:
      containers:
      - name: "{YAML_HOSTILE}"
        env:
        - name: NATS_URL
          value: "nats://{YAML_HOSTILE}:4222"
        - name: NATS_ENABLED
          value: "{YAML_HOSTILE}"
"#
    )
}

#[test]
fn lint_escapes_input_in_every_format() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("objects.yaml"), hostile_manifests()).expect("write");
    // A manifest whose name holds the escapes and whose YAML is broken: its name is
    // shown in the input error on standard error, and its line in the text format.
    std::fs::write(
        dir.path().join(format!("{HOSTILE}.yaml")),
        "apiVersion: v1\nkind: ConfigMap\ndata: [\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("tab.env"),
        format!("NATS_URL=nats://10.0.0.9:8222\t#{HOSTILE}\n"),
    )
    .expect("write");
    let path = dir.path().to_str().expect("path");
    for format in ["text", "github", "json", "sarif"] {
        let output = run(&["lint", "--color", "never", "--format", format, path], &[]);
        assert_eq!(output.code, 2, "{format}: {output:?}");
        let text = output.all();
        match format {
            "text" | "github" => assert!(text.contains(SHOWN), "{format}:\n{text}"),
            // JSON escapes them its own way, and they decode to the original.
            _ => assert!(
                text.contains("\\u001b]0;pwned\\u0007\\u001b[2J\\u202e"),
                "{format}:\n{text}"
            ),
        }
        assert!(
            output.stderr.as_str().contains(&format!("{SHOWN}.yaml")),
            "{format}: the input error names the file, escaped"
        );
    }
    let output = run(&["lint", "--format", "json", path], &[]);
    let report = output.json();
    let objects: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|finding| finding["object"]["name"].as_str())
        .collect();
    assert!(objects.contains(&HOSTILE), "{objects:?}");
}

#[test]
fn our_own_colours_still_work() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("objects.yaml"), hostile_manifests()).expect("write");
    // The runner allows nats-doctor's own colours and no other escape.
    let output = nats_doctor([
        "lint",
        "--color",
        "always",
        dir.path().to_str().expect("path"),
    ])
    .colours()
    .run();
    let text = output.stdout.as_str();
    assert!(text.contains("\u{1b}[1;31merror"), "{text}");
    assert!(text.contains(SHOWN), "{text}");
}

#[test]
fn errors_on_standard_error_are_escaped() {
    let missing = format!("/nonexistent/{HOSTILE}");
    for args in [
        vec!["lint", missing.as_str()],
        vec!["check", "--env-file", missing.as_str()],
        vec![
            "check",
            "--format",
            "nagios",
            "--env-file",
            missing.as_str(),
        ],
        vec!["test-messaging", "--env-file", missing.as_str()],
        vec!["watch", "--env-file", missing.as_str()],
        vec!["explain", HOSTILE],
        vec!["check", "--subject", &format!("{HOSTILE} x")],
        vec!["check", "--timeout", HOSTILE],
        vec!["lint", "--format", HOSTILE],
        vec!["check", "nats://a", HOSTILE],
    ] {
        let output = run(&args, &[]);
        assert!(
            matches!(Some(output.code), Some(1..=3)),
            "{args:?}: {output:?}"
        );
        assert!(
            output.all().contains("\\x1b]0;pwned"),
            "{args:?}: {output:?}"
        );
    }
}

#[test]
fn check_escapes_settings_in_every_format() {
    let (port, _closed) = support::listener::closed_port();
    let env = [
        ("NATS_URL", "nats://127.0.0.1:1"),
        ("NATS_ENABLED", HOSTILE),
        ("NATS_SUBJECT_PREFIX", HOSTILE),
        ("POD_NAMESPACE", HOSTILE),
    ];
    for url in [
        format!("nats://127.0.0.1:{port}"),
        format!("nats://{HOSTILE}@127.0.0.1:{port}"),
        format!("nats://{HOSTILE}"),
    ] {
        for format in ["text", "json", "nagios", "prometheus"] {
            // The runner rejects any raw control character in either stream.
            run(
                &[
                    "check",
                    "--format",
                    format,
                    "--timeout",
                    "1s",
                    "--url",
                    &url,
                ],
                &env[1..],
            );
        }
    }
    let output = run(&["check", "--color", "never"], &env);
    assert!(output.all().contains(SHOWN), "{output:?}");
}

/// A proxy in front of a real nats-server that makes the server hostile: its INFO
/// names the server with escapes and its `-ERR` texts get them too. Serves connections
/// until dropped.
struct TamperingProxy {
    acceptor: Acceptor,
}

impl TamperingProxy {
    fn start(upstream: u16) -> TamperingProxy {
        let acceptor = Acceptor::start(bind_loopback(), move |client| {
            if let Ok(server) = TcpStream::connect(support::loopback(upstream)) {
                relay(client, server);
            }
        });
        TamperingProxy { acceptor }
    }

    fn port(&self) -> u16 {
        self.acceptor.port()
    }
}

/// Copies client to server unchanged, and server to client line by line with INFO and
/// `-ERR` made hostile.
fn relay(client: TcpStream, server: TcpStream) {
    let (Ok(mut client_writer), Ok(mut server_writer)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    std::thread::spawn(move || {
        let mut client = client;
        let _ = std::io::copy(&mut client, &mut server_writer);
        let _ = server_writer.shutdown(std::net::Shutdown::Both);
    });
    std::thread::spawn(move || {
        let mut reader = BufReader::new(server);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            let out = if let Some(json) = text.strip_prefix("INFO ") {
                let mut info: serde_json::Value =
                    serde_json::from_str(json.trim()).unwrap_or_default();
                info["server_name"] = serde_json::json!(HOSTILE);
                info["version"] = serde_json::json!(format!("2.10.0{HOSTILE}"));
                info["connect_urls"] = serde_json::json!([format!("{HOSTILE}:4222")]);
                format!("INFO {info}\r\n").into_bytes()
            } else if let Some(error) = text.strip_prefix("-ERR '") {
                format!("-ERR '{HOSTILE}{error}").into_bytes()
            } else {
                line.clone()
            };
            if client_writer.write_all(&out).is_err() {
                break;
            }
        }
        let _ = client_writer.shutdown(std::net::Shutdown::Both);
    });
}

#[test]
fn check_escapes_what_a_server_says() {
    let server = NatsServer::with_auth(Auth::Token);
    let proxy = TamperingProxy::start(server.port);
    let url = format!("nats://127.0.0.1:{}", proxy.port());
    let mut shown = String::new();
    for format in ["text", "json", "nagios", "prometheus"] {
        for token in ["wrong-token", support::nats_server::TOKEN] {
            let output = run(
                &[
                    "check",
                    "--format",
                    format,
                    "--timeout",
                    "2s",
                    "--count",
                    "2",
                    "--url",
                    &url,
                    "--token",
                    token,
                ],
                &[],
            );
            shown.push_str(&output.all());
        }
    }
    // The hostile texts were received and shown, escaped (JSON has its own escapes).
    assert!(shown.contains(SHOWN), "{shown}");
    assert!(shown.contains("\\u001b]0;pwned"), "{shown}");
}

#[test]
fn test_messaging_escapes_subjects_and_server_errors() {
    let server = NatsServer::with_auth(Auth::PublishDenied);
    let proxy = TamperingProxy::start(server.port);
    let plain = NatsServer::plain();
    for (url, user) in [
        (format!("nats://127.0.0.1:{}", plain.port), None),
        (
            format!("nats://127.0.0.1:{}", proxy.port()),
            Some(support::nats_server::LIMITED_USER),
        ),
    ] {
        for format in ["text", "json"] {
            let mut args = vec![
                "test-messaging",
                "--format",
                format,
                "--timeout",
                "2s",
                "--url",
                &url,
            ];
            if let Some(user) = user {
                args.extend([
                    "--user",
                    user,
                    "--password",
                    support::nats_server::LIMITED_PASSWORD,
                ]);
            }
            let output = run(&args, &[("NATS_SUBJECT_PREFIX", &format!("p.{HOSTILE}"))]);
            if format == "text" {
                assert!(output.all().contains(SHOWN), "{output:?}");
            }
        }
    }
}

/// Runs watch until it exits; `publish` runs once it is watching.
fn watch(args: &[&str], publish: impl FnOnce()) -> Run {
    let mut running = nats_doctor(args).spawn();
    if running
        .stderr_line(|line| line.contains("watching"))
        .is_some()
    {
        publish();
    }
    running.finish()
}

/// Publishes raw protocol to a plain server: the subject and payload bytes as given.
fn publish(port: u16, messages: &[(String, Vec<u8>)]) {
    let mut stream = TcpStream::connect(support::loopback(port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut info = String::new();
    reader.read_line(&mut info).expect("INFO");
    stream
        .write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
        .expect("connect");
    for (subject, payload) in messages {
        stream
            .write_all(format!("PUB {subject} {}\r\n", payload.len()).as_bytes())
            .expect("PUB");
        stream.write_all(payload).expect("payload");
        stream.write_all(b"\r\n").expect("end");
    }
    stream.write_all(b"PING\r\n").expect("PING");
    let mut pong = String::new();
    reader.read_line(&mut pong).expect("PONG");
    assert_eq!(pong, "PONG\r\n");
}

#[test]
fn watch_escapes_subjects_and_payload_fields() {
    let server = NatsServer::plain();
    // Control characters a real server delivers: raw in the subject, JSON-escaped in
    // the fields (they decode to the raw characters), and raw in a JSON string (DEL,
    // a C1 CSI and a bidirectional override are valid JSON as they are).
    let subject = format!("binance.extraction.klines.{HOSTILE}.15m");
    let event = serde_json::json!({
        "event_type": HOSTILE,
        "extraction_type": "klines",
        "symbol": HOSTILE,
        "period": "15m",
        "timestamp": format!("2024-01-15T10:30:00Z{HOSTILE}"),
        "success": true,
        "records_fetched": 1,
        "records_written": 1,
        "duration_seconds": 1.0,
        "errors": [HOSTILE],
    });
    let raw = "{\"event_type\":\"a\u{7f}b\u{9b}2J\u{202e}c\",\"symbol\":\"\u{2066}x\"}";
    let messages = vec![
        (subject.clone(), serde_json::to_vec(&event).expect("json")),
        (subject.clone(), raw.as_bytes().to_vec()),
        (subject, format!("not json {HOSTILE}").into_bytes()),
    ];
    for format in ["text", "json"] {
        let output = watch(
            &[
                "watch",
                "--count",
                "3",
                "--format",
                format,
                "--url",
                &server.url(),
            ],
            || publish(server.port, &messages),
        );
        assert_eq!(output.code, 1, "{output:?}");
        let stdout = output.stdout.as_str();
        if format == "text" {
            assert!(stdout.contains(SHOWN), "{stdout}");
        } else {
            // Still one JSON document per line, holding the original text.
            let lines: Vec<serde_json::Value> = stdout
                .lines()
                .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
                .collect();
            assert_eq!(lines.len(), 4, "{stdout}");
            assert_eq!(lines[0]["event"]["symbol"], HOSTILE);
            assert_eq!(lines[1]["event"]["event_type"], "a\u{7f}b\u{9b}2J\u{202e}c");
        }
    }
}
