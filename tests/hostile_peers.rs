//! Broken and hostile servers, scripted on loopback ports (`support::hostile`), against
//! each network command: `check`, `test-messaging` and `watch`. Every run must end by
//! itself within its time limits, with the named error and its exit code, holding
//! little memory (peak RSS of the process, measured by wait4) and printing little
//! (nothing the server sent is echoed beyond the cap on server texts).
mod support;

use std::time::Duration;
use support::hostile::{self, HostilePeer, Payload, Script, When};
use support::{run_measured, Measured};

/// Far above what any of these runs needs (a passing `check` peaks at about 11 MiB in
/// the debug build),
/// far below what buffering the hostile payloads would take (50 to 100 MB).
const MEMORY_LIMIT_KIB: u64 = 40 * 1024;
/// The whole output of a run, both streams.
const OUTPUT_LIMIT: usize = 64 * 1024;
/// Time to kill a run that hangs; every run here ends in a few seconds.
const KILL_AFTER: Duration = Duration::from_secs(30);

/// The same malformed MSG that made async-nats abort every command.
const HUGE_MSG: &[u8] =
    b"MSG binance.extraction.klines.BTCUSDT.15m {sid} 18446744073709551615\r\nab";

fn scripted(when: When, payload: Payload) -> HostilePeer {
    HostilePeer::start(Script {
        info: hostile::info(1024 * 1024),
        when,
        payload,
    })
}

fn bytes(text: &[u8]) -> Payload {
    Payload::Bytes(text.to_vec())
}

fn assert_bounded(measured: &Measured) {
    assert!(
        measured.max_rss_kib < MEMORY_LIMIT_KIB,
        "peak RSS {} KiB:\n{}\n{}",
        measured.max_rss_kib,
        measured.run.stdout,
        measured.run.stderr
    );
    assert!(
        measured.output_bytes < OUTPUT_LIMIT,
        "{} bytes of output",
        measured.output_bytes
    );
}

fn check(url: &str, timeout: &str) -> Measured {
    let measured = run_measured(
        &["check", "--format", "json", "--timeout", timeout],
        &[("NATS_URL", url)],
        KILL_AFTER,
    );
    assert_bounded(&measured);
    measured
}

fn test_messaging(url: &str, timeout: &str) -> Measured {
    let measured = run_measured(
        &["test-messaging", "--url", url, "--timeout", timeout],
        &[],
        KILL_AFTER,
    );
    assert_bounded(&measured);
    measured
}

/// `watch` with a short time limit and, unless `extra` sets another, a reconnect window
/// of one second.
fn watch(url: &str, extra: &[&str]) -> Measured {
    let mut args = vec!["watch", "--url", url, "--timeout", "500ms"];
    if !extra.contains(&"--reconnect-window") {
        args.extend_from_slice(&["--reconnect-window", "1s"]);
    }
    args.extend_from_slice(extra);
    let measured = run_measured(&args, &[], KILL_AFTER);
    assert_bounded(&measured);
    measured
}

fn step_summary(measured: &Measured, name: &str) -> String {
    measured.run.step(name)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn check_names_a_malformed_msg() {
    let peer = scripted(When::Subscribed, bytes(HUGE_MSG));
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1, "{}", measured.run.stdout);
    assert_eq!(measured.run.status("nats"), "pass");
    let roundtrip = measured.run.step("roundtrip");
    assert_eq!(roundtrip["detail"]["problem"], "malformed_protocol");
    let summary = step_summary(&measured, "roundtrip");
    assert!(
        summary.starts_with(
            "the server sent a malformed MSG: it announces 18446744073709551615 bytes"
        ),
        "{summary}"
    );
    // Named at once, not at the time limit.
    assert!(
        measured.run.elapsed < Duration::from_secs(1),
        "{:?}",
        measured.run.elapsed
    );
}

#[test]
fn test_messaging_names_a_malformed_msg() {
    let peer = scripted(When::Subscribed, bytes(HUGE_MSG));
    let measured = test_messaging(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1, "{}", measured.run.stdout);
    assert!(
        measured
            .run
            .stdout
            .contains("the connection was lost: the server sent a malformed MSG"),
        "{}",
        measured.run.stdout
    );
    assert!(
        measured.run.elapsed < Duration::from_secs(1),
        "{:?}",
        measured.run.elapsed
    );
}

#[test]
fn watch_names_a_malformed_msg_and_keeps_reconnecting_within_the_window() {
    let peer = scripted(When::Echoed, bytes(HUGE_MSG));
    let measured = watch(&peer.url(), &[]);
    let run = &measured.run;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "disconnected from {}: the server sent a malformed MSG: it announces 18446744073709551615 bytes",
            peer.url()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("the connection kept failing for 1s"),
        "{}",
        run.stdout
    );
    // It reconnected, each time to the same malformed MSG, and the attempts were few.
    let accepted = peer.accepted();
    assert!((2..40).contains(&accepted), "{accepted} connections");
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
}

/// `INFO {"a":"xxxx…` for 100 MB, never ending.
fn endless_info() -> HostilePeer {
    HostilePeer::start(Script {
        info: Vec::new(),
        when: When::Accepted,
        payload: Payload::Stream {
            head: b"INFO {\"a\":\"".to_vec(),
            filler: b'x',
            total: 100 * 1024 * 1024,
            tail: Vec::new(),
        },
    })
}

const ENDLESS_INFO: &str = "the server sent an INFO line of more than 256 KiB without an end";

#[test]
fn check_stops_reading_an_endless_info() {
    let peer = endless_info();
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1, "{}", measured.run.stdout);
    assert_eq!(measured.run.diagnosis(), "malformed_protocol");
    assert!(
        step_summary(&measured, "nats").contains(ENDLESS_INFO),
        "{}",
        measured.run.stdout
    );
    // The client hung up long before the peer was done.
    assert!(peer.sent() < 50 * 1024 * 1024, "{} bytes sent", peer.sent());
}

#[test]
fn test_messaging_and_watch_stop_reading_an_endless_info() {
    let peer = endless_info();
    let measured = test_messaging(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stdout.contains(ENDLESS_INFO),
        "{}",
        measured.run.stdout
    );
    let measured = watch(&peer.url(), &[]);
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stderr.contains(ENDLESS_INFO),
        "{}",
        measured.run.stderr
    );
}

/// A `-ERR` of 50 MB instead of the PONG after CONNECT.
fn huge_error() -> HostilePeer {
    scripted(
        When::Connect,
        Payload::Stream {
            head: b"-ERR '".to_vec(),
            filler: b'e',
            total: 50 * 1024 * 1024,
            tail: b"'\r\n".to_vec(),
        },
    )
}

const HUGE_ERROR: &str = "the server sent a -ERR line of more than 64 KiB without an end";

#[test]
fn a_huge_error_line_is_neither_buffered_nor_printed() {
    let peer = huge_error();
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert_eq!(measured.run.diagnosis(), "malformed_protocol");
    assert!(step_summary(&measured, "nats").contains(HUGE_ERROR));
    let measured = test_messaging(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stdout.contains(HUGE_ERROR),
        "{}",
        measured.run.stdout
    );
    let measured = watch(&peer.url(), &[]);
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stderr.contains(HUGE_ERROR),
        "{}",
        measured.run.stderr
    );
}

#[test]
fn a_long_error_text_is_capped_in_every_output() {
    let mut line = b"-ERR '".to_vec();
    line.extend(std::iter::repeat_n(b'e', 60 * 1024));
    line.extend_from_slice(b"'\r\n");
    let peer = scripted(When::Connect, Payload::Bytes(line));
    let cap = format!("{}… ({} more bytes)", "e".repeat(512), 60 * 1024 - 512);
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert_eq!(measured.run.diagnosis(), "server_error");
    assert!(
        step_summary(&measured, "nats").contains(&cap),
        "{}",
        measured.run.stdout
    );
    for format in ["text", "nagios", "prometheus"] {
        let measured = run_measured(
            &["check", "--format", format, "--timeout", "2s"],
            &[("NATS_URL", &peer.url())],
            KILL_AFTER,
        );
        assert_bounded(&measured);
        assert!(
            !measured.run.stdout.contains(&"e".repeat(513)),
            "{format}: {}",
            measured.run.stdout
        );
    }
    let measured = test_messaging(&peer.url(), "2s");
    assert!(
        measured.run.stdout.contains(&cap),
        "{}",
        measured.run.stdout
    );
    let measured = watch(&peer.url(), &[]);
    assert!(
        measured.run.stderr.contains(&cap),
        "{}",
        measured.run.stderr
    );
}

#[test]
fn a_bare_error_is_named() {
    let peer = scripted(When::Connect, bytes(b"-ERR\r\n"));
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert_eq!(measured.run.diagnosis(), "server_error");
    assert!(
        step_summary(&measured, "nats").contains("-ERR without a text"),
        "{}",
        measured.run.stdout
    );
    let measured = test_messaging(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stdout.contains("-ERR without a text"),
        "{}",
        measured.run.stdout
    );
    let measured = watch(&peer.url(), &[]);
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stderr.contains("-ERR without a text"),
        "{}",
        measured.run.stderr
    );
}

#[test]
fn a_message_larger_than_max_payload_is_refused() {
    let mut message = b"MSG a.b {sid} 2048\r\n".to_vec();
    message.extend(std::iter::repeat_n(b'p', 2048));
    message.extend_from_slice(b"\r\n");
    let peer = HostilePeer::start(Script {
        info: hostile::info(1024),
        when: When::Subscribed,
        payload: Payload::Bytes(message),
    });
    let named = "the server sent a malformed MSG: it announces 2048 bytes, more than the 1024 bytes of max_payload";
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert!(
        step_summary(&measured, "roundtrip").contains(named),
        "{}",
        measured.run.stdout
    );
    let measured = test_messaging(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stdout.contains(named),
        "{}",
        measured.run.stdout
    );
}

#[test]
fn bad_header_lengths_are_named() {
    let named =
        "the server sent a malformed HMSG: its header size 30 is larger than its total size 20";
    let peer = scripted(When::Subscribed, bytes(b"HMSG a.b {sid} 30 20\r\n"));
    let measured = check(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1);
    assert!(
        step_summary(&measured, "roundtrip").contains(named),
        "{}",
        measured.run.stdout
    );
    let measured = test_messaging(&peer.url(), "2s");
    assert!(
        measured.run.stdout.contains(named),
        "{}",
        measured.run.stdout
    );
    let peer = scripted(When::Echoed, bytes(b"HMSG a.b {sid} 30 20\r\n"));
    let measured = watch(&peer.url(), &[]);
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stderr.contains(named),
        "{}",
        measured.run.stderr
    );
}

#[test]
fn a_server_that_stops_answering_is_timed_out() {
    // Silent once the first SUB is in: the round trip waits no longer than its limit.
    let peer = scripted(When::Subscribed, Payload::Silence);
    let measured = check(&peer.url(), "1s");
    assert_eq!(measured.run.code, 1);
    let roundtrip = measured.run.step("roundtrip");
    assert_eq!(
        roundtrip["detail"]["problem"], "timeout",
        "{}",
        measured.run.stdout
    );
    let duration = roundtrip["duration_ms"].as_f64().unwrap_or_default();
    assert!((900.0..1500.0).contains(&duration), "{duration} ms");
    let measured = test_messaging(&peer.url(), "1s");
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.stdout.contains("within 1s"),
        "{}",
        measured.run.stdout
    );
    assert!(
        measured.run.elapsed < Duration::from_secs(3),
        "{:?}",
        measured.run.elapsed
    );
    // watch: a subscription that is never confirmed is no connection to watch on.
    let measured = watch(&peer.url(), &[]);
    assert_eq!(measured.run.code, 1);
    assert!(
        measured
            .run
            .stderr
            .contains("the server did not confirm the subscription within 500ms"),
        "{}",
        measured.run.stderr
    );
    // Silent after confirming: the watch PINGs, gives up on the connection, reconnects.
    let peer = scripted(When::Echoed, Payload::Silence);
    let measured = watch(
        &peer.url(),
        &["--duration", "3s", "--reconnect-window", "5s"],
    );
    let run = &measured.run;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("the server did not answer a PING within 500ms"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("reconnected to"), "{}", run.stderr);
    assert!(run.stdout.contains("duration reached"), "{}", run.stdout);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

#[test]
fn ten_silent_servers_take_one_time_limit() {
    let peers: Vec<HostilePeer> = (0..10).map(|_| hostile::silent()).collect();
    let url = peers
        .iter()
        .map(HostilePeer::url)
        .collect::<Vec<_>>()
        .join(",");
    let measured = check(&url, "1s");
    assert_eq!(measured.run.code, 1);
    let nats = measured.run.step("nats");
    let diagnoses = nats["detail"]["diagnoses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(diagnoses.len(), 10, "{nats}");
    assert!(diagnoses.iter().all(|d| d == "no_info"), "{nats}");
    let duration = nats["duration_ms"].as_f64().unwrap_or_default();
    assert!(
        (900.0..1600.0).contains(&duration),
        "nats step {duration} ms"
    );
    let measured = test_messaging(&url, "1s");
    assert_eq!(measured.run.code, 1);
    assert_eq!(
        measured
            .run
            .stdout
            .matches("no INFO within 1000 ms")
            .count(),
        10,
        "{}",
        measured.run.stdout
    );
    assert!(
        measured.run.elapsed < Duration::from_millis(2500),
        "{:?}",
        measured.run.elapsed
    );
    let measured = watch(&url, &[]);
    assert_eq!(measured.run.code, 1);
    assert!(
        measured.run.elapsed < Duration::from_millis(2000),
        "{:?}",
        measured.run.elapsed
    );
}

#[test]
fn test_messaging_says_when_the_server_takes_no_headers() {
    let info = String::from_utf8(hostile::info(1024 * 1024))
        .expect("text")
        .replace("\"headers\":true,", "");
    let peer = HostilePeer::start(Script {
        info: info.into_bytes(),
        when: When::Subscribed,
        payload: Payload::Bytes(Vec::new()),
    });
    let measured = test_messaging(&peer.url(), "2s");
    assert_eq!(measured.run.code, 1, "{}", measured.run.stdout);
    assert!(
        measured.run.stdout.contains(
            "publish-failed: the client could not publish: the server does not take headers"
        ),
        "{}",
        measured.run.stdout
    );
}
