//! No output of any command shows a secret: a set of hostile passwords (URL delimiters,
//! list separators, quotes, a number, non-ASCII, a percent-encoded one) is put in every
//! place a secret can be written, and every command is run in every format over it,
//! against a real `nats-server` whose users have those passwords and against a closed
//! port. Neither standard output nor standard error may contain any piece of a
//! password, in any form: every hostile password is built from `Hunt3r` (so a
//! percent-encoded, JSON-escaped or half-masked password still contains `nt3r`) except
//! the numeric one.
mod support;

use base64::Engine as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;
use support::listener::closed_port;
use support::nats_server::{NatsServer, Options};
use support::{nats_doctor, Run};

/// Passwords that break naive masking. Each is the password of user `u{index}` of the
/// test server.
const PASSWORDS: &[&str] = &[
    "Hunt3r#Hunt3r",
    "Hunt3r/Hunt3r",
    "Hunt3r?Hunt3r",
    "Hunt3r,Hunt3r",
    "Hunt3r;Hunt3r",
    "Hunt3r Hunt3r",
    "Hunt3r@Hunt3r",
    "Hunt3r:Hunt3r",
    "Hunt3r\"Hunt3r",
    "Hunt3r'Hunt3r",
    "8675309",
    "Hünt3r✓Hünt3r",
    "Hunt3r%23Hunt3r",
];

/// What no output may contain: a piece of any password, in any encoding.
const NEEDLES: &[&str] = &["nt3r", "8675309", "H%C3%BCnt"];

/// Runs `nats-doctor ARGS` with exactly `env` as its environment; the runner fails it
/// when either stream holds a needle.
fn run(what: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    nats_doctor(args)
        .envs(env)
        .secrets(NEEDLES)
        .describe(what)
        .run()
}

/// A nats-server whose user `u{index}` has password `PASSWORDS[index]`.
fn server() -> NatsServer {
    let users: Vec<String> = PASSWORDS
        .iter()
        .enumerate()
        .map(|(index, password)| {
            let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{{user: \"u{index}\", password: \"{quoted}\"}}")
        })
        .collect();
    NatsServer::start(Options {
        extra: format!("authorization {{ users = [ {} ] }}\n", users.join(", ")),
        ..Options::default()
    })
}

/// The password as a YAML double-quoted scalar's content.
fn yaml_double(password: &str) -> String {
    password.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Every place a lint input can hold a secret, for one password.
fn write_inputs(dir: &Path, password: &str) {
    let quoted = yaml_double(password);
    let single = password.replace('\'', "''");
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("nats://app:{password}@10.1.2.3:8222"));
    let password_value = if password.bytes().all(|b| b.is_ascii_digit()) {
        // Unquoted, so that ND303 reports it.
        password.to_string()
    } else {
        format!("\"{quoted}\"")
    };
    let manifests = format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: apps
data:
  NATS_URL: "nats://app:{quoted}@10.1.2.3:8222"
  LIST_NATS_URL: "nats://a:b@h1:4222;nats://app:{quoted}@10.1.2.4:4222"
  SINGLE_NATS_URL: 'nats://app:{single}@10.1.2.5:4222'
  MULTI_NATS_URL: "nats://app:{quoted}
    x@10.1.2.6:4222"
  NATS_PASSWORD: {password_value}
  NATS_TOKEN: {password_value}
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: apps
data:
  NATS_URL: {encoded}
stringData:
  NATS_PASSWORD: "{quoted}"
  OTHER_NATS_URL: "nats://app:{quoted}@10.1.2.7:6222"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reader
  namespace: apps
spec:
  template:
    spec:
      containers:
      - name: from-secret
        env:
        - name: NATS_URL
          valueFrom:
            secretKeyRef: {{name: creds, key: NATS_URL}}
        - name: NATS_PASSWORD
          value: {password_value}
        - {{name: NATS_TOKEN, value: "{quoted}"}}
        - {{name: NATS_TOKEN, value: "{quoted}"}}
      - name: plain
        env:
        - name: NATS_URL
          value: "nats://app:{quoted}@10.1.2.8:7422"
        - name: NATS_CREDS_URL
          value: "app:{quoted}@10.1.2.9:4222"
"#
    );
    std::fs::write(dir.join("manifests.yaml"), manifests).expect("write manifests");
    let compose = format!(
        r#"services:
  app:
    image: app
    environment:
      NATS_URL: "nats://app:{quoted}@10.2.0.1:8222"
  worker:
    image: worker
    environment:
      - "NATS_URL=nats://app:{quoted}@10.2.0.2:8222"
      - "NATS_PASSWORD={quoted}"
"#
    );
    std::fs::write(dir.join("docker-compose.yaml"), compose).expect("write compose");
    let env_file = format!(
        "NATS_URL=\"nats://app:{}@10.3.0.1:8222\"\nNATS_PASSWORD=\"{}\"\nNATS_TOKEN={password}\n",
        yaml_double(password),
        yaml_double(password)
    );
    std::fs::write(dir.join("app.env"), env_file).expect("write .env");
    // No scheme: the userinfo starts at the start of the value.
    std::fs::write(
        dir.join("schemeless.env"),
        format!("NATS_URL=app:{password}@10.3.0.2:8222\n"),
    )
    .expect("write .env");
}

#[test]
fn lint_never_prints_a_password_in_any_format() {
    for password in PASSWORDS {
        let dir = tempfile::tempdir().expect("temporary directory");
        write_inputs(dir.path(), password);
        let path = dir.path().to_str().expect("UTF-8 path");
        let url = format!("nats://app:{password}@10.4.0.1:8222");
        let env = [
            ("NATS_URL", url.as_str()),
            ("NATS_PASSWORD", password),
            ("NATS_TOKEN", password),
        ];
        let mut findings = 0;
        for format in ["text", "json", "sarif", "github"] {
            let output = run(
                &format!("lint --format {format} with password {password:?}"),
                &["lint", "--env", "--format", format, path],
                &env,
            );
            assert!(
                matches!(output.code, 1),
                "{format}: {}",
                output.stderr.as_str()
            );
            if format == "json" {
                let report = output.json();
                findings = report["findings"].as_array().map_or(0, Vec::len);
            }
        }
        // The inputs really are judged: URL, port, credential and string rules fire.
        assert!(findings >= 12, "{password:?}: only {findings} findings");
    }
}

#[test]
fn lint_shows_masked_source_lines() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_inputs(dir.path(), "Hunt3r#Hunt3r");
    let output = run(
        "lint text",
        &[
            "lint",
            "--color",
            "never",
            dir.path().to_str().expect("path"),
        ],
        &[],
    );
    let text = output.stdout.as_str();
    for shown in [
        "NATS_URL: \"nats://app:***@10.1.2.3:8222\"",
        "LIST_NATS_URL: \"nats://a:***@h1:4222;nats://app:***@10.1.2.4:4222\"",
        "MULTI_NATS_URL: \"nats://app:***",
        "- {name: NATS_TOKEN, value: ***}",
        "NATS_URL=\"nats://app:***@10.3.0.1:8222\"",
        "NATS_URL=app:***@10.3.0.2:8222",
        "the user name or password contains `#`",
        "percent-encode `#` as %23",
    ] {
        assert!(text.contains(shown), "missing {shown:?}:\n{text}");
    }
}

/// The check command lines for one password: every place a password can be given.
/// A command's arguments and environment, named by where the password is.
type Place = (String, Vec<String>, Vec<(String, String)>);

/// Every place a password can be given to check, test-messaging and watch; an env file
/// is written in `dir`.
fn check_places(dir: &Path, index: usize, password: &str, url_host: &str) -> Vec<Place> {
    let user = format!("u{index}");
    let with_userinfo = format!("nats://{user}:{password}@{url_host}");
    let plain = format!("nats://{url_host}");
    let env_file = dir.join(format!("{index}-{}.env", url_host.replace([':', '.'], "-")));
    std::fs::write(
        &env_file,
        format!(
            "NATS_URL=\"{}\"\nNATS_USER={user}\nNATS_PASSWORD=\"{}\"\n",
            yaml_double(&with_userinfo),
            yaml_double(password)
        ),
    )
    .expect("write env file");
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let pairs = |items: &[(&str, &str)]| {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    vec![
        ("--url".into(), strings(&["--url", &with_userinfo]), vec![]),
        ("positional URL".into(), strings(&[&with_userinfo]), vec![]),
        (
            "scheme-less --url".into(),
            strings(&["--url", &format!("{user}:{password}@{url_host}")]),
            vec![],
        ),
        (
            "--password".into(),
            strings(&["--url", &plain, "--user", &user, "--password", password]),
            vec![],
        ),
        (
            "--password=".into(),
            strings(&[
                "--url",
                &plain,
                "--user",
                &user,
                &format!("--password={password}"),
            ]),
            vec![],
        ),
        (
            "--token".into(),
            strings(&["--url", &plain, "--token", password]),
            vec![],
        ),
        (
            "NATS_URL".into(),
            vec![],
            pairs(&[("NATS_URL", &with_userinfo)]),
        ),
        (
            "NATS_PASSWORD".into(),
            vec![],
            pairs(&[
                ("NATS_URL", &plain),
                ("NATS_USER", &user),
                ("NATS_PASSWORD", password),
            ]),
        ),
        (
            "NATS_TOKEN".into(),
            vec![],
            pairs(&[("NATS_URL", &plain), ("NATS_TOKEN", password)]),
        ),
        (
            "NATS_CREDS".into(),
            vec![],
            pairs(&[("NATS_URL", &plain), ("NATS_CREDS", password)]),
        ),
        (
            "--env-file".into(),
            strings(&["--env-file", env_file.to_str().expect("path")]),
            vec![],
        ),
    ]
}

fn check_matrix(url_host: &str, expect_connection: bool) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut connected = 0;
    for (index, password) in PASSWORDS.iter().enumerate() {
        for (place, args, env) in check_places(dir.path(), index, password, url_host) {
            for format in ["text", "json", "nagios", "prometheus"] {
                let mut all = vec![
                    "check".to_string(),
                    "--format".into(),
                    format.into(),
                    "--timeout".into(),
                    "2s".into(),
                    "--count".into(),
                    "1".into(),
                    "--no-system-resolver".into(),
                ];
                all.extend(args.iter().cloned());
                let all: Vec<&str> = all.iter().map(String::as_str).collect();
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let output = run(
                    &format!("check {place} --format {format} with password {password:?}"),
                    &all,
                    &env,
                );
                if format == "json" && Some(output.code) == Some(0) {
                    connected += 1;
                }
            }
        }
    }
    if expect_connection {
        // The server accepts the passwords that survive a URL, and all of them as flags
        // and variables: the round trip ran, and printed nothing of them either.
        assert!(connected >= 40, "only {connected} runs connected");
    } else {
        assert_eq!(connected, 0);
    }
}

#[test]
fn check_never_prints_a_password_connected() {
    let server = server();
    check_matrix(&format!("127.0.0.1:{}", server.port), true);
}

#[test]
fn check_never_prints_a_password_against_a_closed_port() {
    let (closed, _closed) = closed_port();
    check_matrix(&format!("127.0.0.1:{closed}"), false);
}

#[test]
fn command_line_errors_never_print_a_password() {
    for password in PASSWORDS {
        let url = format!("nats://app:{password}@127.0.0.1:1");
        let dashed = format!("-{password}");
        for args in [
            vec!["check", "nats://127.0.0.1:1", &url],
            vec!["check", "--url", "nats://127.0.0.1:1", &url],
            vec!["check", &url, "--url", &url],
            vec!["check", "--nameserver", &url],
            vec!["check", "--password", &dashed],
            vec!["check", "--token", &dashed],
            vec!["test-messaging", &url],
            vec!["watch", "a", &url],
            vec!["lint", "--fail-on", &url],
        ] {
            let output = run(&format!("{args:?}"), &args, &[]);
            assert_eq!(output.code, 2, "{args:?}: {output:?}");
        }
    }
}

fn messaging_places(dir: &Path, index: usize, password: &str, url_host: &str) -> Vec<Place> {
    check_places(dir, index, password, url_host)
        .into_iter()
        .filter(|(place, _, _)| place != "positional URL")
        .collect()
}

#[test]
fn test_messaging_never_prints_a_password() {
    let server = server();
    let live = format!("127.0.0.1:{}", server.port);
    let (closed_port, _closed) = closed_port();
    let closed = format!("127.0.0.1:{closed_port}");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut passed = 0;
    for (index, password) in PASSWORDS.iter().enumerate() {
        for host in [&live, &closed] {
            for (place, args, env) in messaging_places(dir.path(), index, password, host) {
                for format in ["text", "json"] {
                    let mut all = vec![
                        "test-messaging".to_string(),
                        "--format".into(),
                        format.into(),
                        "--timeout".into(),
                        "2s".into(),
                    ];
                    all.extend(args.iter().cloned());
                    let all: Vec<&str> = all.iter().map(String::as_str).collect();
                    let env: Vec<(&str, &str)> =
                        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let output = run(
                        &format!(
                            "test-messaging {place} --format {format} at {host} with {password:?}"
                        ),
                        &all,
                        &env,
                    );
                    if Some(output.code) == Some(0) {
                        passed += 1;
                    }
                }
            }
        }
    }
    assert!(passed >= 40, "only {passed} runs passed");
}

/// Publishes `payload` on `subject` as user `u{index}`, over a plain TCP connection.
fn publish(port: u16, index: usize, subject: &str, payload: &[u8]) {
    let mut stream = TcpStream::connect(support::loopback(port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut info = String::new();
    reader.read_line(&mut info).expect("INFO");
    let connect = serde_json::json!({
        "user": format!("u{index}"),
        "pass": PASSWORDS[index],
        "verbose": false,
        "pedantic": false,
    });
    stream
        .write_all(format!("CONNECT {connect}\r\nPUB {subject} {}\r\n", payload.len()).as_bytes())
        .expect("write");
    stream.write_all(payload).expect("payload");
    stream.write_all(b"\r\nPING\r\n").expect("ping");
    let mut pong = String::new();
    reader.read_line(&mut pong).expect("PONG");
    assert_eq!(pong, "PONG\r\n", "publish refused: {pong}");
}

/// Runs `watch ARGS`; once it says it is watching, `then` runs. Returns the exit code and
/// standard output.
fn watch(
    what: &str,
    args: &[&str],
    env: &[(&str, &str)],
    then: impl FnOnce(),
) -> (Option<i32>, String) {
    let mut running = nats_doctor(args)
        .envs(env)
        .secrets(NEEDLES)
        .describe(what)
        .spawn();
    if running
        .stderr_line(|line| line.contains("watching"))
        .is_some()
    {
        then();
    }
    let run = running.finish();
    (Some(run.code), run.stdout)
}

#[test]
fn watch_never_prints_a_password() {
    let server = server();
    let live = format!("127.0.0.1:{}", server.port);
    let (closed_port, _closed) = closed_port();
    let closed = format!("127.0.0.1:{closed_port}");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut received = 0;
    for (index, password) in PASSWORDS.iter().enumerate() {
        for host in [&live, &closed] {
            for (place, args, env) in messaging_places(dir.path(), index, password, host) {
                for format in ["text", "json"] {
                    let mut all = vec![
                        "watch".to_string(),
                        "watched.>".into(),
                        "--count".into(),
                        "1".into(),
                        "--format".into(),
                        format.into(),
                        "--timeout".into(),
                        "2s".into(),
                    ];
                    all.extend(args.iter().cloned());
                    let all: Vec<&str> = all.iter().map(String::as_str).collect();
                    let env: Vec<(&str, &str)> =
                        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let (code, stdout) = watch(
                        &format!("watch {place} --format {format} at {host} with {password:?}"),
                        &all,
                        &env,
                        || publish(server.port, index, "watched.event", b"{\"a\":1}"),
                    );
                    // Not an extraction event: received, and invalid.
                    if code == Some(1) && stdout.contains("watched.event") {
                        received += 1;
                    }
                }
            }
        }
    }
    assert!(received >= 40, "only {received} watches received the event");
}
