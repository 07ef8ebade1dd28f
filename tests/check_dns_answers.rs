//! Every kind of bad DNS answer, sent byte for byte by a raw responder on loopback (real
//! UDP and TCP sockets): each is named in the `dns` step, the search goes on or stops
//! as glibc's does, and the run ends within its time limit.
mod support;

use hickory_proto::op::ResponseCode;
use std::net::Ipv4Addr;
use std::time::Duration;
use support::raw_dns::{self, framed, Asked, RawDns, Reply, Transport};
use support::{assert_within, Run};

const MARGIN: Duration = Duration::from_millis(700);
/// The first name a pod in petrosa-apps tries for `nats-server.nats`, which the
/// responders answer NXDOMAIN, and the second, which gets the answer under test.
const FIRST: &str = "nats-server.nats.petrosa-apps.svc.cluster.local.";
const SECOND: &str = "nats-server.nats.svc.cluster.local.";

fn check_with(dns: &RawDns, timeout: &str) -> Run {
    support::run::check_as_pod(&dns.nameserver(), "nats://nats-server.nats:4222", timeout)
}

/// A responder that answers NXDOMAIN for `FIRST`, `second` for `SECOND`, NXDOMAIN for
/// anything else.
fn responder(tcp: bool, second: impl Fn(&Asked) -> Vec<Vec<u8>> + Send + Sync + 'static) -> RawDns {
    RawDns::start(tcp, move |asked| {
        if asked.name == SECOND {
            second(asked)
        } else {
            vec![Reply::to(asked).code(ResponseCode::NXDomain).bytes()]
        }
    })
}

fn host(run: &Run) -> serde_json::Value {
    run.step("dns")["detail"]["hosts"][0].clone()
}

fn tried(run: &Run) -> Vec<(String, String)> {
    host(run)["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("no candidates: {}", run.stdout))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn second_error(run: &Run) -> String {
    host(run)["candidates"][1]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The search stopped at the second name with `result`, and the step failed with it.
fn assert_stopped_with(run: &Run, result: &str) {
    assert_eq!(
        tried(run),
        [
            (FIRST.to_string(), "nxdomain".to_string()),
            (SECOND.to_string(), result.to_string())
        ],
        "{}",
        run.stdout
    );
    assert_eq!(host(run)["result"], result, "{}", run.stdout);
    assert_eq!(run.status("dns"), "fail");
    assert_eq!(run.status("tcp"), "skip");
    assert_eq!(run.code, 1);
}

#[test]
fn refused_notimp_and_formerr_are_named_and_end_the_search() {
    for (code, result, shown) in [
        (ResponseCode::Refused, "refused", "REFUSED"),
        (ResponseCode::NotImp, "notimp", "NOTIMP"),
        (ResponseCode::FormErr, "formerr", "FORMERR"),
    ] {
        let dns = responder(false, move |asked| {
            vec![Reply::to(asked).code(code).bytes()]
        });
        let run = check_with(&dns, "2s");
        assert_stopped_with(&run, result);
        let summary = run.step("dns")["summary"].as_str().unwrap().to_string();
        assert!(summary.contains(shown), "{summary}");
        assert!(
            run.runbook()
                .contains(&"NATS Service Not Found".to_string()),
            "{:?}",
            run.runbook()
        );
        assert_within(&run, Duration::from_millis(1500));
    }
}

#[test]
fn short_reply_is_named_after_the_wait_a_pod_would_sit_through() {
    // Three bytes cannot be matched to a query: glibc ignores them and waits on.
    let dns = responder(false, |_| vec![vec![0x12, 0x34, 0x81]]);
    let run = check_with(&dns, "1s");
    assert_stopped_with(&run, "short");
    assert!(
        second_error(&run).contains("3-byte reply"),
        "{}",
        run.stdout
    );
    assert!(
        run.elapsed >= Duration::from_millis(900),
        "{:?}",
        run.elapsed
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn truncated_reply_without_tcp_says_what_was_tried() {
    let dns = responder(false, |asked| {
        vec![Reply::to(asked)
            .a(SECOND, Ipv4Addr::LOCALHOST)
            .truncated()
            .bytes()]
    });
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "truncated");
    let error = second_error(&run);
    assert!(error.contains("TC bit"), "{error}");
    assert!(error.contains("TCP retry failed"), "{error}");
    assert!(error.contains("refused the TCP connection"), "{error}");
    let summary = run.step("dns")["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("truncated reply"), "{summary}");
    assert!(summary.contains("TCP retry failed"), "{summary}");
    assert!(run
        .runbook()
        .contains(&"Network Policy Blocking NATS".to_string()));
    assert_within(&run, Duration::from_millis(1500));
}

#[test]
fn truncated_reply_is_asked_again_over_tcp() {
    let dns = responder(true, |asked| match asked.transport {
        Transport::Udp => vec![Reply::to(asked).truncated().bytes()],
        Transport::Tcp => vec![framed(
            &Reply::to(asked).a(SECOND, Ipv4Addr::LOCALHOST).bytes(),
        )],
    });
    let run = check_with(&dns, "2s");
    assert_eq!(run.status("dns"), "pass", "{}", run.stdout);
    assert_eq!(host(&run)["answered_by"], SECOND);
    assert_eq!(host(&run)["addresses"][0], "127.0.0.1");
}

#[test]
fn tcp_reply_shorter_than_its_length_prefix_is_a_bad_length() {
    let dns = responder(true, |asked| match asked.transport {
        Transport::Udp => vec![Reply::to(asked).truncated().bytes()],
        Transport::Tcp => {
            let whole = Reply::to(asked).a(SECOND, Ipv4Addr::LOCALHOST).bytes();
            let mut cut = (whole.len() as u16 + 40).to_be_bytes().to_vec();
            cut.extend_from_slice(&whole);
            vec![cut]
        }
    });
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "bad_length");
    let error = second_error(&run);
    assert!(error.contains("over TCP"), "{error}");
    assert!(error.contains("announced"), "{error}");
}

#[test]
fn compression_pointer_loop_is_named() {
    let dns = responder(false, |asked| vec![raw_dns::pointer_loop(asked)]);
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "pointer_loop");
    let summary = run.step("dns")["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("compression pointer"), "{summary}");
    assert_within(&run, Duration::from_millis(1500));
}

#[test]
fn record_longer_than_the_message_is_a_bad_length() {
    let dns = responder(false, |asked| vec![raw_dns::bad_length(asked)]);
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "bad_length");
    assert_within(&run, Duration::from_millis(1500));
}

#[test]
fn unreadable_reply_is_malformed() {
    let dns = responder(false, |asked| vec![raw_dns::unknown_label_type(asked)]);
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "malformed");
    assert_within(&run, Duration::from_millis(1500));
}

#[test]
fn cname_loop_is_a_loop_not_nodata() {
    let other = "nats-alias.nats.svc.cluster.local.";
    let dns = responder(false, move |asked| {
        vec![Reply::to(asked)
            .cname(SECOND, other)
            .cname(other, SECOND)
            .bytes()]
    });
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "cname_loop");
    let summary = run.step("dns")["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("CNAME loop"), "{summary}");
    assert!(
        summary.contains(&format!("{SECOND} → {other} → {SECOND}")),
        "{summary}"
    );
    let records = host(&run)["candidates"][1]["records"].to_string();
    assert!(records.contains("CNAME"), "{records}");
}

fn chain(asked: &Asked, aliases: usize) -> Vec<u8> {
    let mut reply = Reply::to(asked);
    let mut owner = SECOND.to_string();
    for link in 0..aliases {
        let target = format!("alias-{link}.nats.svc.cluster.local.");
        reply = reply.cname(&owner, &target);
        owner = target;
    }
    reply.a(&owner, Ipv4Addr::LOCALHOST).bytes()
}

#[test]
fn cname_chain_longer_than_eight_aliases_is_named() {
    let dns = responder(false, |asked| vec![chain(asked, 9)]);
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "cname_chain_too_long");
    assert!(second_error(&run).contains("more than 8"), "{}", run.stdout);
    // Eight aliases are followed to the address.
    let dns = responder(false, |asked| vec![chain(asked, 8)]);
    let run = check_with(&dns, "2s");
    assert_eq!(run.status("dns"), "pass", "{}", run.stdout);
    assert_eq!(host(&run)["addresses"][0], "127.0.0.1");
}

#[test]
fn only_reply_for_another_question_is_named_after_the_wait() {
    let dns = responder(false, |asked| {
        vec![Reply::to(asked)
            .question("elsewhere.example.")
            .a("elsewhere.example.", Ipv4Addr::LOCALHOST)
            .bytes()]
    });
    let run = check_with(&dns, "1s");
    assert_stopped_with(&run, "wrong_name");
    assert!(
        second_error(&run).contains("elsewhere.example."),
        "{}",
        run.stdout
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn addresses_for_another_name_are_not_taken() {
    let dns = responder(false, |asked| {
        vec![Reply::to(asked)
            .a("elsewhere.nats.svc.cluster.local.", Ipv4Addr::LOCALHOST)
            .bytes()]
    });
    let run = check_with(&dns, "2s");
    assert_stopped_with(&run, "wrong_name");
    assert!(
        second_error(&run).contains("elsewhere.nats.svc.cluster.local."),
        "{}",
        run.stdout
    );
}

#[test]
fn only_reply_with_another_id_is_named_after_the_wait() {
    let dns = responder(false, |asked| {
        vec![Reply::to(asked)
            .id(asked.id ^ 0xffff)
            .a(SECOND, Ipv4Addr::LOCALHOST)
            .bytes()]
    });
    let run = check_with(&dns, "1s");
    assert_stopped_with(&run, "wrong_id");
    assert!(second_error(&run).contains("id"), "{}", run.stdout);
    assert!(
        run.elapsed >= Duration::from_millis(900),
        "{:?}",
        run.elapsed
    );
    assert_within(&run, Duration::from_secs(1) + MARGIN);
}

#[test]
fn stray_reply_is_ignored_and_the_right_one_taken() {
    let dns = responder(false, |asked| {
        vec![
            Reply::to(asked)
                .id(asked.id ^ 0xffff)
                .a(SECOND, Ipv4Addr::new(127, 0, 0, 9))
                .bytes(),
            vec![0x00],
            Reply::to(asked).a(SECOND, Ipv4Addr::LOCALHOST).bytes(),
        ]
    });
    let run = check_with(&dns, "2s");
    assert_eq!(run.status("dns"), "pass", "{}", run.stdout);
    assert_eq!(host(&run)["addresses"][0], "127.0.0.1", "{}", run.stdout);
    assert_within(&run, Duration::from_millis(1500));
}
