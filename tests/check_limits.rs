//! The time limits of `check`, on loopback: a step's limit covers all of its work (every
//! address of a headless Service at once), and the whole run ends within four times
//! `--timeout` whatever the peers do.
mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};
use support::dns_server::{pod_resolv_conf, Answer, DnsServer};
use support::listener::{bind_same_port, Acceptor};
use support::{assert_within, check, Run};

const MARGIN: Duration = Duration::from_millis(700);
const SERVICE: &str = "nats-headless.nats.svc.cluster.local.";

/// 127.0.0.2, 127.0.0.3, …: loopback addresses a headless Service could list.
fn pod_addresses(count: u8) -> Vec<Ipv4Addr> {
    (2..2 + count)
        .map(|last| Ipv4Addr::new(127, 0, 0, last))
        .collect()
}

fn check_service(dns: &DnsServer, port: u16, timeout: &str) -> Run {
    support::run::check_as_pod(
        &dns.nameserver(),
        &format!("nats://nats-headless.nats:{port}"),
        timeout,
    )
}

/// A listener with a backlog of one that never accepts, bound but not yet listening.
fn backlog_socket(address: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(address)?;
    Ok(socket)
}

/// The socket listening with a backlog of one, filled until SYNs are dropped: a
/// connection to it times out, as through a NetworkPolicy that drops.
fn full_listener(
    runtime: &tokio::runtime::Runtime,
    socket: tokio::net::TcpSocket,
) -> (tokio::net::TcpListener, Vec<TcpStream>) {
    let address = socket.local_addr().unwrap();
    let listener = runtime.block_on(async { socket.listen(0).unwrap() });
    let mut fillers = Vec::new();
    // Bounded: fill until a connect times out.
    for _ in 0..8 {
        match TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(stream) => fillers.push(stream),
            Err(_) => break,
        }
    }
    (listener, fillers)
}

#[test]
fn tcp_step_connects_to_every_address_at_once() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addresses = pod_addresses(6);
    let ips: Vec<IpAddr> = addresses.iter().map(|ip| IpAddr::V4(*ip)).collect();
    let (port, sockets) = bind_same_port(&ips, backlog_socket, |socket| {
        socket.local_addr().unwrap().port()
    });
    let held: Vec<_> = sockets
        .into_iter()
        .map(|socket| full_listener(&runtime, socket))
        .collect();
    let dns = DnsServer::start();
    dns.set(
        SERVICE,
        Answer::Addresses(addresses.iter().map(|ip| IpAddr::V4(*ip)).collect()),
    );
    let run = check_service(&dns, port, "1s");
    assert_eq!(run.status("tcp"), "fail", "{}", run.stdout);
    let connections = run.step("tcp")["detail"]["connections"].clone();
    let reported: Vec<(String, String)> = connections
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = addresses
        .iter()
        .map(|ip| (format!("{ip}:{port}"), "timed_out".to_string()))
        .collect();
    let mut sorted = reported.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "every address, each timed out");
    let answered: Vec<String> = run.step("dns")["detail"]["hosts"][0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}:{port}", a.as_str().unwrap()))
        .collect();
    let order: Vec<String> = reported.iter().map(|(a, _)| a.clone()).collect();
    assert_eq!(order, answered, "in the order DNS gave them");
    // One limit for the step, not one per address (six seconds before).
    let tcp_ms = run.step("tcp")["duration_ms"].as_f64().unwrap();
    assert!((900.0..1300.0).contains(&tcp_ms), "tcp took {tcp_ms} ms");
    assert_within(&run, Duration::from_secs(1) + MARGIN);
    drop(held);
}

#[test]
fn run_ends_within_four_timeouts_whatever_the_peers_do() {
    let addresses = pod_addresses(6);
    let ips: Vec<IpAddr> = addresses.iter().map(|ip| IpAddr::V4(*ip)).collect();
    // Listeners that accept and never write, like pods behind a sniffing proxy.
    let (port, listeners) = bind_same_port(&ips, TcpListener::bind, |listener| {
        listener.local_addr().unwrap().port()
    });
    let holders: Vec<Acceptor> = listeners.into_iter().map(Acceptor::silent).collect();
    let dns = DnsServer::start();
    dns.set(
        SERVICE,
        Answer::Addresses(addresses.iter().map(|ip| IpAddr::V4(*ip)).collect()),
    );
    let started = Instant::now();
    let run = check_service(&dns, port, "500ms");
    // Six silent servers waited for one after the other would take three seconds.
    assert_within(
        &run,
        4 * Duration::from_millis(500) + Duration::from_millis(300),
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("tcp"), "pass", "{}", run.stdout);
    assert_eq!(run.status("nats"), "fail", "{}", run.stdout);
    let names: Vec<String> = run.json()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["config", "url", "dns", "tcp", "nats", "roundtrip"]);
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    drop(holders);
}

#[test]
fn long_server_list_with_a_silent_nameserver_ends_within_the_step() {
    // A nameserver that never answers, and twenty Service names.
    let dns = support::raw_dns::RawDns::start(false, |_| Vec::new());
    let url = (0..20)
        .map(|n| format!("nats://nats-{n}.nats:4222"))
        .collect::<Vec<_>>()
        .join(",");
    let dir = tempfile::tempdir().unwrap();
    let resolv = pod_resolv_conf(dir.path(), "petrosa-apps");
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
            "--no-system-resolver",
        ],
        &[("NATS_URL", &url), ("POD_NAMESPACE", "petrosa-apps")],
    );
    assert_eq!(run.status("dns"), "fail", "{}", run.stdout);
    let hosts = run.step("dns")["detail"]["hosts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(hosts.len(), 20);
    assert!(
        hosts.iter().all(|host| host["result"] == "timeout"),
        "{}",
        run.stdout
    );
    // Sixteen at a time were asked and waited for; the rest found the time used up.
    let asked = hosts
        .iter()
        .filter(|host| {
            host["candidates"][0]["error"]
                .as_str()
                .is_some_and(|error| error.starts_with("no answer from"))
        })
        .count();
    assert_eq!(asked, 16, "{}", run.stdout);
    assert_eq!(dns.queries(), 16 * 2, "A and AAAA for each host asked");
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}
