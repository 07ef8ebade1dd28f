//! Every fault of the issue, with real sockets and real servers on loopback: each test
//! asserts the failing step, its classification, the runbook entry, and that the
//! command returned within its time limit plus a small margin.
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::dns_server::{pod_resolv_conf, Answer, DnsServer};
use support::listener::{bind_loopback, closed_port, Acceptor};
use support::nats_server::{NatsServer, Options};
use support::{assert_within, check, loopback};

const MARGIN: Duration = Duration::from_millis(700);

fn tcp_result(run: &support::Run) -> String {
    run.step("tcp")["detail"]["connections"][0]["result"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn closed_port_is_refused() {
    let (port, _closed) = support::listener::closed_port();
    let url = format!("nats://127.0.0.1:{port}");
    let run = check(
        &["--format", "json"],
        &[("NATS_URL", &url), ("POD_NAMESPACE", "petrosa-apps")],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.status("tcp"), "fail");
    assert_eq!(tcp_result(&run), "refused");
    assert_eq!(run.status("nats"), "skip");
    assert_eq!(run.status("roundtrip"), "skip");
    assert!(run
        .runbook()
        .contains(&"NATS Connection Failed".to_string()));
    // An IP literal in a pod is also a URL warning (lint's ND101 rule does not fire for
    // loopback, ND102 does: localhost inside a pod).
    assert_eq!(run.status("url"), "warn");
    assert!(run
        .runbook()
        .contains(&"Wrong NATS URL configuration".to_string()));
    assert_within(&run, Duration::from_millis(1500));
}

#[test]
fn refused_port_names_the_service_in_the_runbook() {
    let dns = DnsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let resolv = pod_resolv_conf(dir.path(), "petrosa-apps");
    let (closed, _closed) = closed_port();
    let url = format!("nats://nats-server.nats:{closed}");
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
    assert_eq!(run.code, 1);
    assert_eq!(tcp_result(&run), "refused");
    assert_eq!(run.runbook(), ["NATS Connection Failed"]);
    let commands = run.runbook_commands();
    assert!(
        commands.contains("kubectl get endpoints -n nats nats-server"),
        "{commands}"
    );
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
    assert!(text.stdout.contains("FAIL tcp"), "{}", text.stdout);
    assert!(text.stdout.contains("FAIL at tcp"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("$ kubectl get endpoints -n nats nats-server"),
        "{}",
        text.stdout
    );
}

#[test]
fn listener_that_never_writes_has_no_info() {
    // Accepts and holds connections without a word, like a protocol-sniffing proxy.
    let holder = Acceptor::silent(bind_loopback());
    let url = format!("nats://127.0.0.1:{}", holder.port());
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.status("tcp"), "pass");
    assert_eq!(run.status("nats"), "fail");
    assert_eq!(run.diagnosis(), "no_info");
    let summary = run.step("nats")["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("appProtocol: tcp"), "{summary}");
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    assert!(
        run.elapsed >= Duration::from_millis(900),
        "{:?}",
        run.elapsed
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
    drop(holder);
}

#[test]
fn http_monitoring_port_is_named() {
    let server = NatsServer::start(Options {
        monitoring: true,
        ..Options::default()
    });
    let url = format!("nats://127.0.0.1:{}", server.monitoring_port.unwrap());
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.diagnosis(), "http_port", "{}", run.stdout);
    assert!(run.step("nats")["summary"]
        .as_str()
        .unwrap()
        .contains("HTTP"));
    assert!(run
        .runbook()
        .contains(&"Wrong NATS URL configuration".to_string()));
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn route_port_is_named() {
    let server = NatsServer::start(Options {
        cluster: true,
        ..Options::default()
    });
    // Listening already: the ports file that named it is written once it is bound.
    let route = server.route_port.expect("the route port");
    let url = format!("nats://127.0.0.1:{route}");
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.diagnosis(), "route_port", "{}", run.stdout);
    assert!(run.step("nats")["summary"]
        .as_str()
        .unwrap()
        .contains("attempted to connect to route port"));
    assert!(run
        .runbook()
        .contains(&"Wrong NATS URL configuration".to_string()));
    assert_within(&run, Duration::from_secs(1) + MARGIN);
    drop(server);
}

/// A connection that completed CONNECT/PING/PONG, or `None` if the server refused it.
fn complete_client(port: u16) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(loopback(port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .ok()?;
    let mut seen = Vec::new();
    // Bounded: at most 64 reads.
    for _ in 0..64 {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        seen.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&seen);
        if text.contains("-ERR") {
            return None;
        }
        if text.contains("PONG") {
            return Some(stream);
        }
    }
    None
}

#[test]
fn maximum_connections_is_named() {
    let server = NatsServer::start(Options {
        extra: "max_connections: 1\n".to_string(),
        ..Options::default()
    });
    // Take the only connection as a complete client (CONNECT, then PONG received), so
    // the server counts it and keeps it however slowly the rest of the test runs. No
    // other connection was made: the server's readiness is read from its ports file.
    let _held = complete_client(server.port).expect("a client connection to hold");
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &server.url())],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.diagnosis(), "maximum_connections", "{}", run.stdout);
    assert!(run
        .runbook()
        .contains(&"NATS Connection Failed".to_string()));
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn plain_client_against_a_tls_server_fails_the_handshake() {
    let server = NatsServer::start(Options {
        tls: true,
        ..Options::default()
    });
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &server.url())],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("nats"), "fail");
    assert_eq!(
        run.step("nats")["detail"]["addresses"][0]["info"]["tls_required"],
        true
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn server_killed_during_the_round_trip() {
    let mut server = NatsServer::start(Options {
        monitoring: true,
        ..Options::default()
    });
    let url = server.url();
    let runner = std::thread::spawn(move || {
        check(
            &[
                "--format",
                "json",
                "--timeout",
                "20s",
                "--count",
                "10000000",
            ],
            &[("NATS_URL", &url)],
        )
    });
    // Killed in the middle of the round trip: once the server has delivered messages
    // to the check's subscription (its monitoring counts them).
    server.wait_for_delivered(100);
    let killed = Instant::now();
    server.kill();
    let run = runner.join().unwrap();
    let after_kill = killed.elapsed();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("nats"), "pass");
    let roundtrip = run.step("roundtrip");
    assert_eq!(roundtrip["status"], "fail");
    assert_eq!(
        roundtrip["detail"]["problem"], "disconnected",
        "{}",
        run.stdout
    );
    let received = roundtrip["detail"]["received"].as_u64().unwrap();
    assert!(received > 0 && received < 10_000_000, "{received}");
    assert_eq!(run.runbook(), ["Messages Not Received"]);
    assert!(after_kill < Duration::from_secs(2), "{after_kill:?}");
}

#[test]
fn full_accept_backlog_times_out_tcp() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A listener with a backlog of one that never accepts: once one connection waits,
    // further SYNs are dropped.
    let listener = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(loopback(0)).unwrap();
        socket.listen(0).unwrap()
    });
    let port = listener.local_addr().unwrap().port();
    let mut fillers = Vec::new();
    // Bounded: fill until a connect times out.
    for _ in 0..8 {
        match TcpStream::connect_timeout(&loopback(port), Duration::from_millis(200)) {
            Ok(stream) => fillers.push(stream),
            Err(_) => break,
        }
    }
    let url = format!("nats://127.0.0.1:{port}");
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(tcp_result(&run), "timed_out", "{}", run.stdout);
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    assert!(
        run.elapsed >= Duration::from_millis(900),
        "{:?}",
        run.elapsed
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
    drop(listener);
}

fn dns_run(dns: &DnsServer, host: &str, timeout: &str) -> support::Run {
    support::run::check_as_pod(&dns.nameserver(), &format!("nats://{host}:4222"), timeout)
}

fn dns_host(run: &support::Run) -> serde_json::Value {
    run.step("dns")["detail"]["hosts"][0].clone()
}

#[test]
fn nxdomain_tries_every_search_name_and_points_at_the_service() {
    let dns = DnsServer::start();
    let run = dns_run(&dns, "nats-missing.nats", "2s");
    assert_eq!(run.code, 1);
    assert_eq!(run.status("dns"), "fail");
    let host = dns_host(&run);
    assert_eq!(host["result"], "nxdomain");
    let tried: Vec<_> = host["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        tried,
        [
            "nats-missing.nats.petrosa-apps.svc.cluster.local.",
            "nats-missing.nats.svc.cluster.local.",
            "nats-missing.nats.cluster.local.",
            "nats-missing.nats.",
        ]
    );
    assert_eq!(
        run.runbook(),
        ["NATS Service Not Found", "Cross-Namespace NATS Access"]
    );
    assert!(run
        .runbook_commands()
        .contains("kubectl get svc -n nats nats-missing"));
    assert_eq!(run.status("tcp"), "skip");
    assert_within(&run, Duration::from_secs(2) + MARGIN);
}

#[test]
fn short_name_nxdomain_leaves_the_nats_namespace_open() {
    let dns = DnsServer::start();
    let run = dns_run(&dns, "nats-server", "2s");
    assert_eq!(dns_host(&run)["result"], "nxdomain", "{}", run.stdout);
    let commands = run.runbook_commands();
    assert!(
        commands.contains("kubectl get svc -n petrosa-apps | grep nats"),
        "{commands}"
    );
    assert!(
        commands.contains("kubectl get svc -n <nats-namespace> nats-server"),
        "{commands}"
    );
}

#[test]
fn servfail_and_nodata_are_told_apart() {
    let dns = DnsServer::start();
    dns.set("broken.nats.svc.cluster.local.", Answer::ServFail);
    for suffix in ["petrosa-apps.svc.cluster.local.", "cluster.local."] {
        dns.set(&format!("broken.nats.{suffix}"), Answer::ServFail);
    }
    dns.set("broken.nats.", Answer::ServFail);
    let run = dns_run(&dns, "broken.nats", "2s");
    assert_eq!(dns_host(&run)["result"], "servfail", "{}", run.stdout);
    assert!(run
        .runbook()
        .contains(&"NATS Service Not Found".to_string()));

    dns.set("empty.nats.svc.cluster.local.", Answer::NoData);
    let run = dns_run(&dns, "empty.nats", "2s");
    let host = dns_host(&run);
    assert_eq!(host["candidates"][1]["result"], "nodata", "{}", run.stdout);
    assert_eq!(run.status("dns"), "fail");
}

#[test]
fn cname_records_are_reported() {
    let dns = DnsServer::start();
    dns.set(
        "alias.nats.svc.cluster.local.",
        Answer::Cname("nats-server.nats.svc.cluster.local.".to_string()),
    );
    let run = dns_run(&dns, "alias.nats", "2s");
    let host = dns_host(&run);
    assert_eq!(
        host["answered_by"], "alias.nats.svc.cluster.local.",
        "{}",
        run.stdout
    );
    let records = host["candidates"][1]["records"].to_string();
    assert!(records.contains("CNAME"), "{records}");
    assert_eq!(host["addresses"][0], "127.0.0.1");
}

#[test]
fn unanswered_dns_times_out_within_the_limit() {
    let dns = DnsServer::start();
    dns.set(
        "silent.nats.petrosa-apps.svc.cluster.local.",
        Answer::Ignore,
    );
    let run = dns_run(&dns, "silent.nats", "1s");
    assert_eq!(run.code, 1);
    let host = dns_host(&run);
    assert_eq!(host["result"], "timeout", "{}", run.stdout);
    assert_eq!(
        host["candidates"].as_array().unwrap().len(),
        1,
        "glibc stops searching after a timeout"
    );
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    assert!(
        run.elapsed >= Duration::from_millis(900),
        "{:?}",
        run.elapsed
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn unreachable_nameserver_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let resolv = pod_resolv_conf(dir.path(), "petrosa-apps");
    let (dead_port, _dead) = support::listener::closed_udp_port();
    let dead = format!("127.0.0.1:{dead_port}");
    let run = check(
        &[
            "--format",
            "json",
            "--timeout",
            "3s",
            "--resolv-conf",
            resolv.to_str().unwrap(),
            "--nameserver",
            &dead,
            "--no-system-resolver",
        ],
        &[("NATS_URL", "nats://nats-server.nats:4222")],
    );
    assert_eq!(run.code, 1);
    assert_eq!(dns_host(&run)["result"], "unreachable", "{}", run.stdout);
    assert!(
        run.step("dns")["detail"]["hosts"][0]["candidates"][0]["error"]
            .as_str()
            .unwrap()
            .contains("port unreachable")
    );
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    // Told apart from a timeout without waiting for the 3 s one.
    assert_within(&run, Duration::from_millis(1500));
}

#[test]
fn system_resolver_disagreement_warns() {
    // `localhost` resolves from /etc/hosts for getaddrinfo (no packet leaves), while the
    // pod's search list finds a different address first.
    let dns = DnsServer::start();
    dns.set(
        "localhost.petrosa-apps.svc.cluster.local.",
        Answer::Addresses(vec!["127.0.0.2".parse().unwrap()]),
    );
    let dir = tempfile::tempdir().unwrap();
    let resolv = pod_resolv_conf(dir.path(), "petrosa-apps");
    let (closed, _closed) = closed_port();
    let url = format!("nats://localhost:{closed}");
    let run = check(
        &[
            "--format",
            "json",
            "--timeout",
            "1s",
            "--resolv-conf",
            resolv.to_str().unwrap(),
            "--nameserver",
            &dns.nameserver(),
        ],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.status("dns"), "warn", "{}", run.stdout);
    let dns_step = run.step("dns");
    assert_eq!(dns_step["detail"]["hosts"][0]["agree"], false);
    assert!(dns_step["summary"]
        .as_str()
        .unwrap()
        .contains("system resolver"));
}

#[test]
fn url_faults_fail_before_any_connection() {
    let run = check(
        &["--format", "json"],
        &[("NATS_URL", "http://nats-server:4222")],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.status("url"), "fail");
    assert!(run.step("url")["summary"]
        .as_str()
        .unwrap()
        .contains("ND104"));
    assert_eq!(run.runbook(), ["Wrong NATS URL configuration"]);
    assert_eq!(run.status("dns"), "skip");
    let run = check(
        &["--format", "json"],
        &[("NATS_URL", "nats://a:4222, nats://b:4222")],
    );
    assert_eq!(run.status("url"), "fail");
    assert!(run.step("url")["summary"]
        .as_str()
        .unwrap()
        .contains("ND107"));
    let run = check(
        &["--format", "json"],
        &[("NATS_URL", "nats://127.0.0.1:8222")],
    );
    assert_eq!(run.status("url"), "warn", "{}", run.stdout);
}

#[test]
fn each_server_of_a_list_is_probed_in_order() {
    let server = NatsServer::plain();
    let (closed, _closed) = closed_port();
    let url = format!("nats://127.0.0.1:{closed},{}", server.url());
    let run = check(&["--format", "json"], &[("NATS_URL", &url)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.status("tcp"), "warn");
    let connections = run.step("tcp")["detail"]["connections"].clone();
    assert_eq!(connections[0]["result"], "refused");
    assert_eq!(connections[1]["result"], "connected");
    assert_eq!(run.status("roundtrip"), "pass");
}

/// A proxy that, like a protocol-sniffing sidecar, connects to the backend only after
/// the client has sent its first bytes; then it forwards both ways.
fn start_sniffing_proxy(backend: u16) -> Acceptor {
    Acceptor::start(bind_loopback(), move |mut client| {
        std::thread::spawn(move || {
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut first = [0u8; 1024];
            let Ok(read) = client.read(&mut first) else {
                return;
            };
            if read == 0 {
                return;
            }
            let Ok(mut upstream) = TcpStream::connect(loopback(backend)) else {
                return;
            };
            let _ = upstream.write_all(&first[..read]);
            let (mut client_reader, mut upstream_writer) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let forward = std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_reader, &mut upstream_writer);
            });
            let _ = std::io::copy(&mut upstream, &mut client);
            let _ = forward.join();
        });
    })
}

#[test]
fn protocol_sniffing_proxy_is_recognised() {
    let server = NatsServer::plain();
    let proxy = start_sniffing_proxy(server.port);
    let url = format!("nats://127.0.0.1:{}", proxy.port());
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let nats = run.step("nats");
    assert_eq!(nats["status"], "fail");
    let summary = nats["summary"].as_str().unwrap();
    // The raw probe got INFO only after speaking; the real client, which waits for the
    // server to speak first, never connects.
    assert!(summary.contains("only after the client spoke"), "{summary}");
    assert!(summary.contains("appProtocol: tcp"), "{summary}");
    assert_eq!(nats["detail"]["diagnoses"][0], "timeout", "{}", run.stdout);
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    // Half the limit before the nudge, then the client's own limit.
    assert_within(&run, Duration::from_millis(1750) + MARGIN);
    drop(server);
    drop(proxy);
}

#[test]
fn listener_that_closes_at_once_sends_no_info() {
    let closer = Acceptor::closing(bind_loopback());
    let url = format!("nats://127.0.0.1:{}", closer.port());
    let run = check(
        &["--format", "json", "--timeout", "1s"],
        &[("NATS_URL", &url)],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("tcp"), "pass");
    assert_eq!(run.diagnosis(), "closed_without_info", "{}", run.stdout);
    assert!(run
        .runbook()
        .contains(&"NATS Connection Failed".to_string()));
    assert_within(&run, Duration::from_secs(1) + MARGIN);
    drop(closer);
}

#[test]
fn nats_enabled_that_is_not_a_boolean_warns() {
    let run = check(
        &["--format", "json"],
        &[("NATS_ENABLED", "yes"), ("NATS_URL", "nats://127.0.0.1:1")],
    );
    // The services compare value.lower() == "true": "yes" switches messaging off.
    assert_eq!(run.code, 0);
    assert_eq!(run.status("config"), "warn");
    assert!(run.step("config")["detail"]["notes"][0]
        .as_str()
        .unwrap()
        .contains("neither true nor false"));
    assert_eq!(run.runbook(), ["Messages Not Received"]);
}
