//! Step `dns`: resolves each server's host the way a pod does — the resolv.conf search
//! list and `ndots`, names tried in glibc's order, each nameserver `attempts` times —
//! with queries of its own (`exchange`), so that the report says which names were
//! tried, what each answered and which one won. Every kind of failed answer has its
//! name: NXDOMAIN, NODATA, SERVFAIL, REFUSED, NOTIMP, FORMERR, a timeout, an unreachable
//! nameserver (ICMP), a truncated reply without a usable TCP retry, a reply too short
//! for a header, a compression-pointer loop, a length past the end of the message, a
//! reply for another name or with another id, a CNAME loop and a CNAME chain too long.
//! The system resolver (getaddrinfo, what the client libraries use) resolves the same
//! host alongside, on a thread of its own that nothing waits for once the step is over;
//! a disagreement is a warning. All hosts are resolved at once, within the step's one
//! deadline.

mod exchange;

use super::{CheckOptions, Outcome, Status, Target};
use crate::natsurl::{Host, ServerUrl};
use crate::runbook::Step;
use exchange::{Fault, Nameservers};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::time::timeout_at;

/// What one query (or one candidate name) came back with. The names are permanent:
/// they appear in JSON output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Answered,
    #[serde(rename = "nxdomain")]
    NxDomain,
    #[serde(rename = "nodata")]
    NoData,
    #[serde(rename = "servfail")]
    ServFail,
    Refused,
    #[serde(rename = "notimp")]
    NotImp,
    #[serde(rename = "formerr")]
    FormErr,
    Timeout,
    Unreachable,
    Truncated,
    Short,
    PointerLoop,
    BadLength,
    Malformed,
    WrongName,
    WrongId,
    CnameLoop,
    CnameChainTooLong,
    Error,
}

/// Aliases followed within one answer before the chain counts as too long (hickory's
/// resolver and CoreDNS stop at about this depth; a Service needs one, an ExternalName
/// two or three).
pub const CNAME_CHAIN_LIMIT: usize = 8;

impl Answer {
    fn describe(&self) -> &'static str {
        match self {
            Answer::Answered => "answered",
            Answer::NxDomain => "NXDOMAIN (no such name)",
            Answer::NoData => "NODATA (the name exists, with no A/AAAA record)",
            Answer::ServFail => "SERVFAIL (the nameserver failed to answer)",
            Answer::Refused => "REFUSED (the nameserver refuses to answer this query)",
            Answer::NotImp => "NOTIMP (the nameserver does not implement this query)",
            Answer::FormErr => "FORMERR (the nameserver could not read the query)",
            Answer::Timeout => "timeout (no answer from the nameserver)",
            Answer::Unreachable => "nameserver unreachable",
            Answer::Truncated => "truncated reply (TC bit) and no usable answer over TCP",
            Answer::Short => "short reply (fewer bytes than a DNS header)",
            Answer::PointerLoop => "malformed reply: a name compression pointer loops",
            Answer::BadLength => "malformed reply: a length runs past the end of the message",
            Answer::Malformed => "malformed reply (not a readable DNS message)",
            Answer::WrongName => "the only reply was for another name",
            Answer::WrongId => "the only reply had a mismatched id",
            Answer::CnameLoop => "CNAME loop (an alias leads back to a name already seen)",
            Answer::CnameChainTooLong => "CNAME chain too long (more than 8 aliases)",
            Answer::Error => "error",
        }
    }

    /// The kinds whose one-line description needs the particulars (what was tried,
    /// which server sent what) to be useful.
    fn needs_reason(&self) -> bool {
        !matches!(
            self,
            Answer::Answered
                | Answer::NxDomain
                | Answer::NoData
                | Answer::ServFail
                | Answer::Timeout
                | Answer::Unreachable
                | Answer::Error
        )
    }

    /// glibc goes on to the next name after NXDOMAIN, NODATA and SERVFAIL; anything
    /// else (an answer, a dead or refusing nameserver, a reply it cannot use) ends the
    /// search.
    fn stops_search(&self) -> bool {
        !matches!(self, Answer::NxDomain | Answer::NoData | Answer::ServFail)
    }

    /// A reply that matched the query and cannot be read: the resolver takes it and
    /// fails on it, without asking another nameserver.
    fn is_broken_reply(&self) -> bool {
        matches!(
            self,
            Answer::PointerLoop | Answer::BadLength | Answer::Malformed
        )
    }
}

#[derive(Clone, Debug, Serialize)]
struct Candidate {
    name: String,
    result: Answer,
    records: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    duration_ms: f64,
}

/// The resolver configuration in use, as reported.
#[derive(Clone, Debug, Serialize)]
struct Resolv {
    resolv_conf: String,
    nameservers: Vec<String>,
    search: Vec<String>,
    ndots: usize,
    timeout_ms: f64,
    attempts: usize,
    #[serde(skip)]
    servers: Nameservers,
}

#[derive(Debug, thiserror::Error)]
enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot use {path}: it names no nameserver")]
    NoNameserver { path: String },
}

/// What one host came to.
struct Resolution {
    index: usize,
    name: String,
    tried: Vec<Candidate>,
    answered_by: Option<String>,
    addresses: Vec<IpAddr>,
    system: Option<Result<Vec<IpAddr>, String>>,
}

pub async fn probe(
    servers: &[ServerUrl],
    timeout: Duration,
    options: &CheckOptions,
) -> (Outcome, Vec<Target>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let names: Vec<&ServerUrl> = servers
        .iter()
        .filter(|s| matches!(s.host, Host::Name { .. }))
        .collect();
    let literal_targets = || {
        servers
            .iter()
            .map(|server| Target {
                server: server.clone(),
                addresses: match (&server.host, server.port.number()) {
                    (Host::Ip(ip), Some(port)) => vec![SocketAddr::new(*ip, port)],
                    _ => Vec::new(),
                },
            })
            .collect::<Vec<_>>()
    };
    if names.is_empty() {
        return (
            Outcome::skipped("dns", "every host is an IP address; nothing to resolve"),
            literal_targets(),
        );
    }

    let resolv = match read_resolv_conf(options, timeout) {
        Ok(resolv) => resolv,
        Err(error) => {
            return (
                Outcome {
                    name: "dns",
                    status: Status::Fail,
                    duration: started.elapsed(),
                    summary: error.to_string(),
                    detail: json!({"error": error.to_string()}),
                    runbook: vec![Step::ServiceNotFound],
                },
                Vec::new(),
            )
        }
    };

    // Every host at once (up to a bound): a host whose nameserver is silent must not
    // use up the time of the hosts after it.
    let slots = tokio::sync::Semaphore::new(HOSTS_AT_ONCE);
    let lookups = servers.iter().enumerate().filter_map(|(index, server)| {
        let Host::Name { name, absolute } = &server.host else {
            return None;
        };
        let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
        let candidates = candidate_names(name, *absolute, &resolv.search, resolv.ndots);
        let (resolv, slots) = (&resolv, &slots);
        Some(async move {
            let Ok(Ok(_slot)) = timeout_at(deadline, slots.acquire()).await else {
                return Resolution {
                    index,
                    name: name.clone(),
                    tried: vec![Candidate {
                        name: candidates.first().cloned().unwrap_or_default(),
                        result: Answer::Timeout,
                        records: Vec::new(),
                        error: Some(format!(
                            "not tried: the step's time limit ran out with {HOSTS_AT_ONCE} hosts being resolved"
                        )),
                        duration_ms: 0.0,
                    }],
                    answered_by: None,
                    addresses: Vec::new(),
                    system: None,
                };
            };
            let system_lookup = async {
                if options.system_resolver {
                    Some(system_resolve(name, port, deadline, timeout).await)
                } else {
                    None
                }
            };
            let ((tried, answered_by, addresses), system) = tokio::join!(
                resolve_candidates(&resolv.servers, &candidates, deadline),
                system_lookup
            );
            Resolution {
                index,
                name: name.clone(),
                tried,
                answered_by,
                addresses,
                system,
            }
        })
    });
    let resolutions = futures_util::future::join_all(lookups).await;

    let mut targets = literal_targets();
    let mut hosts = Vec::new();
    let mut worst: Option<Answer> = None;
    let mut resolved_hosts = 0;
    let mut disagreements = Vec::new();
    let mut summaries = Vec::new();
    for resolution in resolutions {
        let Resolution {
            index,
            name,
            tried,
            answered_by,
            addresses,
            system,
        } = resolution;
        let port = servers[index]
            .port
            .number()
            .unwrap_or(crate::natsurl::DEFAULT_PORT);
        let last = tried.last();
        let last_result = last.map(|c| c.result.clone()).unwrap_or(Answer::Error);
        let mut host_addresses: Vec<IpAddr> = addresses.clone();
        let mut agree = None;
        if let Some(system) = &system {
            if let Ok(system_addresses) = system {
                let ours: BTreeSet<IpAddr> = addresses.iter().copied().collect();
                let theirs: BTreeSet<IpAddr> = system_addresses.iter().copied().collect();
                agree = Some(ours == theirs);
                if ours != theirs {
                    disagreements.push(format!(
                        "{name}: pod DNS gives [{}], the system resolver gives [{}]",
                        join(&ours),
                        join(&theirs)
                    ));
                }
                if host_addresses.is_empty() {
                    // The client libraries use the system resolver: probe what they would.
                    host_addresses = system_addresses.clone();
                }
            } else {
                agree = Some(addresses.is_empty());
                if !addresses.is_empty() {
                    disagreements.push(format!(
                        "{name}: pod DNS answers, the system resolver does not"
                    ));
                }
            }
        }
        if addresses.is_empty() {
            worst = Some(more_serious(worst, last_result.clone()));
            let reason = match last.and_then(|c| c.error.as_deref()) {
                Some(reason) if last_result.needs_reason() => format!(": {reason}"),
                _ => String::new(),
            };
            summaries.push(format!(
                "{name}: {}{reason} (tried {})",
                last_result.describe(),
                tried
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else {
            resolved_hosts += 1;
            summaries.push(format!(
                "{name} → {} (answered by {})",
                join(&addresses),
                answered_by.as_deref().unwrap_or("?")
            ));
        }
        targets[index].addresses = host_addresses
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect();
        hosts.push(json!({
            "host": name,
            "candidates": tried,
            "answered_by": answered_by,
            "addresses": addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>(),
            "result": if addresses.is_empty() { last_result } else { Answer::Answered },
            "system": system.as_ref().map(|s| match s {
                Ok(addresses) => json!({"addresses": addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>()}),
                Err(error) => json!({"error": error}),
            }),
            "agree": agree,
        }));
    }

    let any_address = targets.iter().any(|t| !t.addresses.is_empty());
    let status = if !any_address {
        Status::Fail
    } else if worst.is_some() || !disagreements.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let mut runbook = Vec::new();
    match &worst {
        Some(Answer::NxDomain | Answer::NoData) => {
            runbook.extend([Step::ServiceNotFound, Step::CrossNamespace]);
        }
        // A TCP retry that fails is most often a policy that lets UDP port 53 through
        // and not TCP.
        Some(Answer::Timeout | Answer::Unreachable | Answer::Truncated) => {
            runbook.push(Step::NetworkPolicy);
        }
        Some(Answer::Answered) | None => {}
        Some(_) => runbook.push(Step::ServiceNotFound),
    }
    if !disagreements.is_empty() && runbook.is_empty() {
        runbook.push(Step::ServiceNotFound);
    }
    let mut summary = summaries.join("; ");
    if resolved_hosts > 0 && !disagreements.is_empty() {
        summary.push_str("; ");
        summary.push_str(&disagreements.join("; "));
    }
    let outcome = Outcome {
        name: "dns",
        status,
        duration: started.elapsed(),
        summary,
        detail: json!({
            "resolver": resolv,
            "hosts": hosts,
            "disagreements": disagreements,
        }),
        runbook,
    };
    (outcome, targets)
}

fn join<'a>(addresses: impl IntoIterator<Item = &'a IpAddr>) -> String {
    addresses
        .into_iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Orders failures by how much they explain: a dead nameserver hides everything else,
/// a reply that cannot be used explains more than a response code, and a name that is
/// not there explains least.
fn more_serious(current: Option<Answer>, next: Answer) -> Answer {
    let rank = |answer: &Answer| match answer {
        Answer::Unreachable => 19,
        Answer::Timeout => 18,
        Answer::Truncated => 17,
        Answer::WrongId => 16,
        Answer::WrongName => 15,
        Answer::Short => 14,
        Answer::PointerLoop => 13,
        Answer::BadLength => 12,
        Answer::Malformed => 11,
        Answer::Refused => 10,
        Answer::NotImp => 9,
        Answer::FormErr => 8,
        Answer::ServFail => 7,
        Answer::CnameLoop => 6,
        Answer::CnameChainTooLong => 5,
        Answer::Error => 3,
        Answer::NxDomain => 2,
        Answer::NoData => 1,
        Answer::Answered => 0,
    };
    match current {
        Some(current) if rank(&current) >= rank(&next) => current,
        _ => next,
    }
}

/// Hosts resolved at once: each has two queries and a getaddrinfo thread in flight, and
/// a server list can be long.
const HOSTS_AT_ONCE: usize = 16;

/// resolv.conf is a few lines; anything larger is not one.
const RESOLV_CONF_LIMIT: u64 = 1024 * 1024;
/// glibc's bounds on resolv.conf `attempts` (RES_MAXRETRY) and `timeout`
/// (RES_MAXRETRANS, seconds; 0 counts as 1).
const ATTEMPTS_LIMIT: usize = 5;
/// glibc's MAXNS: the nameservers of resolv.conf that are ever asked.
const NAMESERVERS_LIMIT: usize = 3;
const TRY_TIMEOUT_LIMIT: Duration = Duration::from_secs(30);

fn read_resolv_conf(options: &CheckOptions, timeout: Duration) -> Result<Resolv, ConfigError> {
    let path = options.resolv_conf.display().to_string();
    let bytes = crate::files::read(&options.resolv_conf, RESOLV_CONF_LIMIT).map_err(|error| {
        ConfigError::Read {
            path: path.clone(),
            source: error.into(),
        }
    })?;
    // glibc skips lines it cannot read, and so does this parser.
    let (config, _unreadable_lines) = resolv_conf::Config::parse_with_errors(&bytes);
    let mut search: Vec<String> = config
        .get_last_search_or_domain()
        .filter(|domain| domain.as_str() != "--")
        .map(|domain| domain.trim_end_matches('.').to_string())
        .filter(|domain| !domain.is_empty())
        .collect();
    if search.is_empty() {
        if let Some(domain) = config.get_system_domain() {
            let domain = domain.trim_end_matches('.');
            if !domain.is_empty() {
                search.push(domain.to_string());
            }
        }
    }
    let mut file_nameservers: Vec<IpAddr> = Vec::new();
    for server in &config.nameservers {
        let ip = IpAddr::from(server);
        if !file_nameservers.contains(&ip) {
            file_nameservers.push(ip);
        }
    }
    // glibc never asks a fourth nameserver (and Kubernetes allows no more than three).
    file_nameservers.truncate(NAMESERVERS_LIMIT);
    // A resolv.conf without a nameserver is still useful when --nameserver is given.
    let (nameservers, addresses) = match options.nameserver {
        Some(address) => (vec![address.to_string()], vec![address]),
        None if file_nameservers.is_empty() => return Err(ConfigError::NoNameserver { path }),
        None => (
            file_nameservers.iter().map(IpAddr::to_string).collect(),
            file_nameservers
                .iter()
                .map(|ip| SocketAddr::new(*ip, 53))
                .collect(),
        ),
    };
    let file_timeout = Duration::from_secs(u64::from(config.timeout));
    let attempts = usize::try_from(config.attempts).unwrap_or(usize::MAX);
    Ok(Resolv {
        resolv_conf: path,
        nameservers,
        search,
        ndots: usize::try_from(config.ndots).unwrap_or(usize::MAX),
        timeout_ms: super::millis(file_timeout),
        attempts,
        servers: Nameservers {
            addresses,
            try_timeout: file_timeout
                .clamp(Duration::from_secs(1), TRY_TIMEOUT_LIMIT)
                .min(timeout),
            attempts: attempts.clamp(1, ATTEMPTS_LIMIT),
        },
    })
}

/// The names a pod tries for `name`, in order: an absolute name alone; otherwise the
/// name itself first when it has at least `ndots` dots, then each search suffix, then
/// the name itself last when it was not tried first (glibc's `res_search`).
pub fn candidate_names(name: &str, absolute: bool, search: &[String], ndots: usize) -> Vec<String> {
    let fqdn = format!("{name}.");
    if absolute {
        return vec![fqdn];
    }
    let dots = name.matches('.').count();
    let mut names = Vec::new();
    if dots >= ndots {
        names.push(fqdn.clone());
    }
    for suffix in search {
        let candidate = format!("{name}.{}.", suffix.trim_end_matches('.'));
        if !names.contains(&candidate) {
            names.push(candidate);
        }
    }
    if !names.contains(&fqdn) {
        names.push(fqdn);
    }
    names
}

/// Tries the candidates in order until one answers or the search must stop. Returns
/// what each try gave, the name that answered and its addresses.
async fn resolve_candidates(
    nameservers: &Nameservers,
    candidates: &[String],
    deadline: tokio::time::Instant,
) -> (Vec<Candidate>, Option<String>, Vec<IpAddr>) {
    let mut tried = Vec::new();
    for candidate in candidates {
        let started = Instant::now();
        let Ok(name) = Name::from_ascii(candidate) else {
            tried.push(Candidate {
                name: candidate.clone(),
                result: Answer::Error,
                records: Vec::new(),
                error: Some("not a valid DNS name".to_string()),
                duration_ms: 0.0,
            });
            continue;
        };
        if let Some((records, addresses)) = loopback_name(&name) {
            tried.push(Candidate {
                name: candidate.clone(),
                result: Answer::Answered,
                records,
                error: None,
                duration_ms: super::millis(started.elapsed()),
            });
            return (tried, Some(candidate.clone()), addresses);
        }
        // As glibc does for an unspecified address family: A and AAAA at once.
        let lookups = async {
            tokio::join!(
                lookup(nameservers, &name, RecordType::A, deadline),
                lookup(nameservers, &name, RecordType::AAAA, deadline)
            )
        };
        let (result, records, addresses, error) = match timeout_at(deadline, lookups).await {
            Err(_) => (
                Answer::Timeout,
                Vec::new(),
                Vec::new(),
                Some("the step's time limit ran out".to_string()),
            ),
            Ok((a, aaaa)) => combine(a, aaaa),
        };
        let stop = result.stops_search();
        let answered = result == Answer::Answered;
        tried.push(Candidate {
            name: candidate.clone(),
            result,
            records,
            error,
            duration_ms: super::millis(started.elapsed()),
        });
        if answered {
            return (tried, Some(candidate.clone()), addresses);
        }
        if stop || tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    (tried, None, Vec::new())
}

/// `localhost.` and the names under it are the loopback addresses without a query
/// (RFC 6761, as resolvers that follow it answer them), so that a check of a local
/// server never waits on a nameserver for them.
fn loopback_name(name: &Name) -> Option<(Vec<String>, Vec<IpAddr>)> {
    let localhost = Name::from_ascii("localhost.").ok()?;
    if !localhost.zone_of(name) {
        return None;
    }
    let addresses = vec![
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
    ];
    let records = vec![
        format!("{name} A {}", addresses[0]),
        format!("{name} AAAA {}", addresses[1]),
    ];
    Some((records, addresses))
}

/// One record type for one name: the records of the answer as text, and its
/// addresses or why there are none.
struct Lookup {
    records: Vec<String>,
    addresses: Result<Vec<IpAddr>, Fault>,
}

async fn lookup(
    nameservers: &Nameservers,
    name: &Name,
    kind: RecordType,
    deadline: tokio::time::Instant,
) -> Lookup {
    match exchange::ask(nameservers, name, kind, deadline).await {
        Ok(message) => read_answer(&message, name, kind),
        Err(fault) => Lookup {
            records: Vec::new(),
            addresses: Err(fault),
        },
    }
}

/// The addresses an answer gives for `asked`: the CNAME chain from `asked` followed
/// within the answer (as a stub resolver does), then the records of `kind` owned by
/// its last name.
fn read_answer(message: &Message, asked: &Name, kind: RecordType) -> Lookup {
    let records = message
        .answers
        .iter()
        .map(|record| match &record.data {
            RData::A(a) => format!("{} A {}", record.name, a.0),
            RData::AAAA(aaaa) => format!("{} AAAA {}", record.name, aaaa.0),
            RData::CNAME(target) => format!("{} CNAME {}", record.name, target.0),
            other => format!("{} {}", record.name, other.record_type()),
        })
        .fold(Vec::new(), |mut unique, text| {
            if !unique.contains(&text) {
                unique.push(text);
            }
            unique
        });
    let fault = |answer: Answer, reason: String| Lookup {
        records: records.clone(),
        addresses: Err(Fault { answer, reason }),
    };
    if message.metadata.response_code == ResponseCode::NXDomain {
        return fault(Answer::NxDomain, "NXDOMAIN".to_string());
    }
    let mut chain: Vec<&Name> = vec![asked];
    let mut current = asked;
    // Bounded: one more step than the limit, and a name seen twice stops it.
    for _ in 0..=CNAME_CHAIN_LIMIT {
        let Some(target) = message
            .answers
            .iter()
            .find_map(|record| match &record.data {
                RData::CNAME(target) if record.name == *current => Some(&target.0),
                _ => None,
            })
        else {
            break;
        };
        let looped = chain.contains(&target);
        chain.push(target);
        let path = || {
            chain
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        };
        if looped {
            return fault(Answer::CnameLoop, path());
        }
        if chain.len() > CNAME_CHAIN_LIMIT + 1 {
            return fault(
                Answer::CnameChainTooLong,
                format!("more than {CNAME_CHAIN_LIMIT} aliases: {}", path()),
            );
        }
        current = target;
    }
    let mut addresses = Vec::new();
    let mut elsewhere: Vec<String> = Vec::new();
    for record in &message.answers {
        let address = match &record.data {
            RData::A(a) if kind == RecordType::A => IpAddr::V4(a.0),
            RData::AAAA(aaaa) if kind == RecordType::AAAA => IpAddr::V6(aaaa.0),
            _ => continue,
        };
        if record.name == *current {
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        } else {
            let owner = record.name.to_string();
            if !elsewhere.contains(&owner) {
                elsewhere.push(owner);
            }
        }
    }
    if !addresses.is_empty() {
        return Lookup {
            records,
            addresses: Ok(addresses),
        };
    }
    if !elsewhere.is_empty() {
        return fault(
            Answer::WrongName,
            format!(
                "the answer holds {kind} records for {}, not for {current}",
                elsewhere.join(", ")
            ),
        );
    }
    let reason = if chain.len() > 1 {
        format!("the alias {current} has no {kind} record in the answer")
    } else {
        format!("no {kind} record")
    };
    fault(Answer::NoData, reason)
}

type Combined = (Answer, Vec<String>, Vec<IpAddr>, Option<String>);

fn combine(a: Lookup, aaaa: Lookup) -> Combined {
    let mut records = Vec::new();
    let mut addresses = Vec::new();
    let mut failures = Vec::new();
    for lookup in [a, aaaa] {
        for record in lookup.records {
            if !records.contains(&record) {
                records.push(record);
            }
        }
        match lookup.addresses {
            Ok(found) => addresses.extend(found),
            Err(fault) => failures.push(fault),
        }
    }
    if !addresses.is_empty() {
        return (Answer::Answered, records, addresses, None);
    }
    let mut worst: Option<Answer> = None;
    let mut message = None;
    for Fault { answer, reason } in failures {
        // NXDOMAIN for one type is NXDOMAIN for the name.
        if worst == Some(Answer::NxDomain) {
            break;
        }
        let ranked = if answer == Answer::NxDomain {
            Answer::NxDomain
        } else {
            more_serious(worst.clone(), answer.clone())
        };
        if ranked == answer {
            message = Some(reason);
        }
        worst = Some(ranked);
    }
    (
        worst.unwrap_or(Answer::NoData),
        records,
        Vec::new(),
        message,
    )
}

/// getaddrinfo, on a thread of its own, within the step's deadline. A lookup that never
/// returns (a nameserver that drops packets, with glibc's 5 s × attempts per name) is
/// left behind: neither the step nor the end of the process waits for it, as they
/// would for a task of the runtime's blocking pool.
async fn system_resolve(
    name: &str,
    port: u16,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<Vec<IpAddr>, String> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let host = name.to_string();
    let spawned = std::thread::Builder::new()
        .name("getaddrinfo".to_string())
        .spawn(move || {
            use std::net::ToSocketAddrs;
            let result = (host.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            // The step may be over; then nobody listens, which is fine.
            let _ = sender.send(result);
        });
    if let Err(error) = spawned {
        return Err(format!("cannot start the lookup: {error}"));
    }
    match timeout_at(deadline, receiver).await {
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(_)) => Err("the lookup ended without a result".to_string()),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Ok(Ok(addresses))) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for address in addresses {
                if !ips.contains(&address.ip()) {
                    ips.push(address.ip());
                }
            }
            Ok(ips)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{candidate_names, loopback_name};
    use hickory_proto::rr::Name;

    #[test]
    fn localhost_names_are_loopback_without_a_query() {
        let name = |text: &str| Name::from_ascii(text).expect("a name");
        let (records, addresses) = loopback_name(&name("localhost.")).expect("loopback");
        assert_eq!(records, ["localhost. A 127.0.0.1", "localhost. AAAA ::1"]);
        assert_eq!(addresses.len(), 2);
        assert!(loopback_name(&name("nats.LocalHost.")).is_some());
        assert!(loopback_name(&name("localhost.petrosa-apps.svc.cluster.local.")).is_none());
        assert!(loopback_name(&name("notlocalhost.")).is_none());
    }

    fn pod_search() -> Vec<String> {
        [
            "petrosa-apps.svc.cluster.local",
            "svc.cluster.local",
            "cluster.local",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn short_names_go_through_the_search_list_first() {
        assert_eq!(
            candidate_names("nats-server.nats", false, &pod_search(), 5),
            [
                "nats-server.nats.petrosa-apps.svc.cluster.local.",
                "nats-server.nats.svc.cluster.local.",
                "nats-server.nats.cluster.local.",
                "nats-server.nats.",
            ]
        );
    }

    #[test]
    fn names_with_enough_dots_are_tried_as_is_first() {
        let names = candidate_names("nats.example.com", false, &pod_search(), 1);
        assert_eq!(names[0], "nats.example.com.");
        assert_eq!(names.len(), 4);
        assert_eq!(
            candidate_names("nats.example.com", true, &pod_search(), 5),
            ["nats.example.com."]
        );
    }
}
