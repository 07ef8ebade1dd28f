//! `check` inside a network namespace that emulates a pod: a veth pair to a "cluster"
//! namespace with its DNS Service (203.0.113.53) and NATS Service (203.0.113.10), the
//! pod's resolv.conf (search list, `ndots:5`) seen by both resolvers, and nftables rules
//! that drop, reject with ICMP unreachable or reset — the faces of a NetworkPolicy or a
//! dead node that loopback never shows. Each test asserts the step results and that the
//! run ended within its limit.
//!
//! Needs root, `ip` and `nft`: `sudo -E cargo test --test netns`.
mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use support::dns_server::{Answer, DnsServer};
use support::netns::{PodNetwork, DNS, NATS};
use support::{assert_within, Run};

const MARGIN: Duration = Duration::from_millis(600);
const SERVICE: &str = "nats-server.nats.svc.cluster.local.";
const HEADLESS: &str = "nats-headless.nats.svc.cluster.local.";

/// The cluster DNS Service, over UDP and TCP, in the cluster namespace.
fn cluster_dns(network: &PodNetwork) -> DnsServer {
    let address = SocketAddr::from((DNS, 53));
    let dns = DnsServer::start_on(network.bind_udp(address), Some(network.bind_tcp(address)));
    dns.set(SERVICE, Answer::Addresses(vec![IpAddr::V4(NATS)]));
    dns
}

/// 59 pod addresses of a headless Service: 203.0.113.11 to .69, more than a 512-byte UDP
/// reply holds.
fn headless_pods() -> Vec<Ipv4Addr> {
    (11..70)
        .map(|last| Ipv4Addr::new(203, 0, 113, last))
        .collect()
}

fn check_in_pod(network: &PodNetwork, url: &str, timeout: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--format", "json", "--timeout", timeout];
    args.extend_from_slice(extra);
    network.check(
        &args,
        &[("NATS_URL", url), ("POD_NAMESPACE", "petrosa-apps")],
    )
}

fn host(run: &Run) -> serde_json::Value {
    run.step("dns")["detail"]["hosts"][0].clone()
}

fn connections(run: &Run) -> Vec<(String, String)> {
    run.step("tcp")["detail"]["connections"]
        .as_array()
        .unwrap_or_else(|| panic!("no connections: {}", run.stdout))
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn pod_view_passes_through_the_service_name() {
    let network = PodNetwork::new("petrosa-apps");
    let _dns = cluster_dns(&network);
    let _nats = network.nats_server(SocketAddr::from((NATS, 4222)));
    let run = check_in_pod(&network, "nats://nats-server.nats:4222", "2s", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for step in ["config", "url", "dns", "tcp", "nats", "roundtrip"] {
        assert_eq!(run.status(step), "pass", "{step}: {}", run.stdout);
    }
    let resolver = &run.step("dns")["detail"]["resolver"];
    assert_eq!(resolver["resolv_conf"], "/etc/resolv.conf");
    assert_eq!(resolver["nameservers"][0], DNS.to_string());
    assert_eq!(resolver["search"][0], "petrosa-apps.svc.cluster.local");
    assert_eq!(resolver["ndots"], 5);
    let host = host(&run);
    assert_eq!(host["answered_by"], SERVICE, "{}", run.stdout);
    assert_eq!(host["candidates"][0]["result"], "nxdomain");
    assert_eq!(host["addresses"][0], NATS.to_string());
    // getaddrinfo read the pod's resolv.conf too, and found the same address.
    assert_eq!(
        host["system"]["addresses"][0],
        NATS.to_string(),
        "{}",
        run.stdout
    );
    assert_eq!(host["agree"], true);
    assert_eq!(
        connections(&run),
        [(format!("{NATS}:4222"), "connected".to_string())]
    );
}

#[test]
fn dropped_dns_ends_the_run_on_time_while_getaddrinfo_still_waits() {
    let network = PodNetwork::new("petrosa-apps");
    let _dns = cluster_dns(&network);
    network.firewall(&["udp dport 53 drop", "tcp dport 53 drop"]);
    // glibc waits 5 s per try, twice: the system resolver is still waiting when the
    // step's second is up, and the process must not wait for it.
    let run = check_in_pod(&network, "nats://nats-server.nats:4222", "1s", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("dns"), "fail");
    let host = host(&run);
    assert_eq!(host["result"], "timeout", "{}", run.stdout);
    assert_eq!(host["candidates"].as_array().unwrap().len(), 1);
    assert_eq!(host["system"]["error"], "no answer within 1000 ms");
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
fn nameserver_that_answers_with_icmp_is_unreachable_at_once() {
    let network = PodNetwork::new("petrosa-apps");
    let _dns = cluster_dns(&network);
    for (rule, said) in [
        (
            "udp dport 53 reject with icmpx type port-unreachable",
            "ICMP port unreachable",
        ),
        (
            "udp dport 53 reject with icmpx type host-unreachable",
            "ICMP host unreachable",
        ),
        (
            "udp dport 53 reject with icmpx type admin-prohibited",
            "ICMP host unreachable",
        ),
    ] {
        network.firewall(&[rule]);
        let run = check_in_pod(
            &network,
            "nats://nats-server.nats:4222",
            "3s",
            &["--no-system-resolver"],
        );
        let host = host(&run);
        assert_eq!(host["result"], "unreachable", "{rule}: {}", run.stdout);
        let error = host["candidates"][0]["error"].as_str().unwrap_or_default();
        assert!(error.contains(said), "{rule}: {error}");
        assert!(run
            .runbook()
            .contains(&"Network Policy Blocking NATS".to_string()));
        // Told apart from a timeout without waiting for the 3 s one.
        assert_within(&run, Duration::from_millis(1500));
        // getaddrinfo alongside: glibc's hears the ICMP error too, musl's does not and
        // waits; either way the step ends within its limit.
        let both = check_in_pod(&network, "nats://nats-server.nats:4222", "3s", &[]);
        let answer = self::host(&both);
        assert_eq!(answer["result"], "unreachable", "{rule}: {}", both.stdout);
        assert!(answer["system"]["error"].is_string(), "{}", both.stdout);
        assert_within(&both, Duration::from_secs(3) + MARGIN);
    }
}

#[test]
fn policy_that_lets_only_udp_dns_through_breaks_large_answers() {
    let network = PodNetwork::new("petrosa-apps");
    let dns = cluster_dns(&network);
    dns.set(
        HEADLESS,
        Answer::Addresses(headless_pods().into_iter().map(IpAddr::V4).collect()),
    );
    for (rule, said, limit) in [
        (
            "tcp dport 53 drop",
            "no TCP connection",
            Duration::from_secs(1) + MARGIN,
        ),
        (
            "tcp dport 53 reject with tcp reset",
            "refused the TCP connection",
            Duration::from_millis(1500),
        ),
    ] {
        network.firewall(&[rule]);
        let run = check_in_pod(
            &network,
            "nats://nats-headless.nats:4222",
            "1s",
            &["--no-system-resolver"],
        );
        let host = host(&run);
        assert_eq!(host["result"], "truncated", "{rule}: {}", run.stdout);
        let error = host["candidates"][1]["error"].as_str().unwrap_or_default();
        assert!(error.contains("TC bit"), "{rule}: {error}");
        assert!(error.contains(said), "{rule}: {error}");
        assert!(run
            .runbook()
            .contains(&"Network Policy Blocking NATS".to_string()));
        assert_within(&run, limit);
    }
    // With TCP let through, the same answer arrives whole.
    network.firewall(&[]);
    let run = check_in_pod(
        &network,
        "nats://nats-headless.nats:4222",
        "1s",
        &["--no-system-resolver"],
    );
    assert_eq!(
        host(&run)["addresses"].as_array().map(Vec::len),
        Some(59),
        "{}",
        run.stdout
    );
}

#[test]
fn headless_service_behind_a_dropping_policy_takes_one_timeout() {
    let network = PodNetwork::new("petrosa-apps");
    let dns = cluster_dns(&network);
    let pods = headless_pods();
    dns.set(
        HEADLESS,
        Answer::Addresses(pods.iter().copied().map(IpAddr::V4).collect()),
    );
    network.firewall(&["tcp dport 4222 drop"]);
    let run = check_in_pod(
        &network,
        "nats://nats-headless.nats:4222",
        "500ms",
        &["--no-system-resolver"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("tcp"), "fail");
    let resolved: Vec<String> = host(&run)["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}:4222", a.as_str().unwrap()))
        .collect();
    assert_eq!(resolved.len(), 59, "{}", run.stdout);
    let reported = connections(&run);
    assert_eq!(
        reported,
        resolved
            .iter()
            .map(|a| (a.clone(), "timed_out".to_string()))
            .collect::<Vec<_>>(),
        "every address timed out, in the order DNS gave them"
    );
    // One half-second for all 59 (29.5 s one after the other).
    let tcp_ms = run.step("tcp")["duration_ms"].as_f64().unwrap();
    assert!((450.0..900.0).contains(&tcp_ms), "tcp took {tcp_ms} ms");
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    assert_within(&run, Duration::from_millis(500) + MARGIN);
}

#[test]
fn drop_reject_and_reset_are_told_apart() {
    let network = PodNetwork::new("petrosa-apps");
    let dns = cluster_dns(&network);
    let pods: Vec<Ipv4Addr> = (10..15)
        .map(|last| Ipv4Addr::new(203, 0, 113, last))
        .collect();
    dns.set(
        HEADLESS,
        Answer::Addresses(pods.iter().copied().map(IpAddr::V4).collect()),
    );
    network.firewall(&[
        "ip daddr 203.0.113.10 tcp dport 4222 drop",
        "ip daddr 203.0.113.11 tcp dport 4222 reject with icmp type host-unreachable",
        "ip daddr 203.0.113.12 tcp dport 4222 reject with icmp type admin-prohibited",
        "ip daddr 203.0.113.13 tcp dport 4222 reject with icmp type port-unreachable",
        "ip daddr 203.0.113.14 tcp dport 4222 reject with tcp reset",
    ]);
    let run = check_in_pod(
        &network,
        "nats://nats-headless.nats:4222",
        "1s",
        &["--no-system-resolver"],
    );
    let results: std::collections::BTreeMap<String, String> =
        connections(&run).into_iter().collect();
    let expected = [
        ("203.0.113.10:4222", "timed_out"),
        ("203.0.113.11:4222", "unreachable"),
        ("203.0.113.12:4222", "unreachable"),
        ("203.0.113.13:4222", "refused"),
        ("203.0.113.14:4222", "refused"),
    ];
    for (address, result) in expected {
        assert_eq!(
            results.get(address).map(String::as_str),
            Some(result),
            "{address}: {}",
            run.stdout
        );
    }
    let runbook = run.runbook();
    assert!(
        runbook.contains(&"Network Policy Blocking NATS".to_string()),
        "{runbook:?}"
    );
    assert!(
        runbook.contains(&"NATS Connection Failed".to_string()),
        "{runbook:?}"
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn node_that_goes_silent_after_the_handshake_ends_on_time() {
    let network = PodNetwork::new("petrosa-apps");
    let _dns = cluster_dns(&network);
    let _nats = network.nats_server(SocketAddr::from((NATS, 4222)));
    // The SYN gets through; everything after it is dropped, as when a node dies with
    // the connection open.
    network.firewall(&["tcp dport 4222 ct state established drop"]);
    let run = check_in_pod(&network, "nats://nats-server.nats:4222", "500ms", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.status("dns"), "pass", "{}", run.stdout);
    assert_eq!(run.status("tcp"), "pass", "{}", run.stdout);
    assert_eq!(run.status("nats"), "fail", "{}", run.stdout);
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    assert_within(&run, 4 * Duration::from_millis(500) + MARGIN);
}
