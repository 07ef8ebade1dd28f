//! Step `dns`: resolves each server's host the way a pod does — the resolv.conf search
//! list and `ndots`, names tried in glibc's order — with hickory, one candidate name at a
//! time so that the report says which names were tried, what each answered, and which
//! one won. NXDOMAIN, NODATA, SERVFAIL, timeout and an unreachable nameserver are told
//! apart. The system resolver (getaddrinfo, what the client libraries use) resolves the
//! same host alongside, and a disagreement is a warning.

use super::{CheckOptions, Outcome, Status, Target};
use crate::natsurl::{Host, ServerUrl};
use crate::runbook::Step;
use futures_util::FutureExt;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::time::timeout_at;

/// What one query (or one candidate name) came back with.
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
    Timeout,
    Unreachable,
    Error,
}

impl Answer {
    fn describe(&self) -> &'static str {
        match self {
            Answer::Answered => "answered",
            Answer::NxDomain => "NXDOMAIN (no such name)",
            Answer::NoData => "NODATA (the name exists, with no A/AAAA record)",
            Answer::ServFail => "SERVFAIL (the nameserver failed to answer)",
            Answer::Timeout => "timeout (no answer from the nameserver)",
            Answer::Unreachable => "nameserver unreachable",
            Answer::Error => "error",
        }
    }

    /// glibc stops searching on a timeout or a dead nameserver; it goes on after
    /// NXDOMAIN, NODATA and SERVFAIL.
    fn stops_search(&self) -> bool {
        matches!(
            self,
            Answer::Answered | Answer::Timeout | Answer::Unreachable
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
    addresses: Vec<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot use {path}: {source}")]
    Parse { path: String, source: NetError },
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

    let (resolver, resolv) = match build_resolver(options, timeout) {
        Ok(built) => built,
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

    // hickory waits out its timeout when a nameserver's port is closed; a datagram of
    // our own hears the ICMP "port unreachable" and tells that case apart.
    let refused = nameservers_refuse(resolv.addresses.clone(), deadline)
        .boxed()
        .shared();
    let mut targets = literal_targets();
    let mut hosts = Vec::new();
    let mut worst: Option<Answer> = None;
    let mut resolved_hosts = 0;
    let mut disagreements = Vec::new();
    let mut summaries = Vec::new();
    for (index, server) in servers.iter().enumerate() {
        let Host::Name { name, absolute } = &server.host else {
            continue;
        };
        let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
        let candidates = candidate_names(name, *absolute, &resolv.search, resolv.ndots);
        let refused = refused.clone();
        let first = candidates.first().cloned().unwrap_or_default();
        let pod_lookup = async {
            tokio::select! {
                result = resolve_candidates(&resolver, &candidates, deadline) => result,
                Some(reason) = refused => (
                    vec![Candidate {
                        name: first,
                        result: Answer::Unreachable,
                        records: Vec::new(),
                        error: Some(reason),
                        duration_ms: super::millis(started.elapsed()),
                    }],
                    None,
                    Vec::new(),
                ),
            }
        };
        let system_lookup = async {
            if options.system_resolver {
                Some(system_resolve(name, port, timeout).await)
            } else {
                None
            }
        };
        let ((tried, answered_by, addresses), system) = tokio::join!(pod_lookup, system_lookup);

        let last = tried
            .last()
            .map(|c| c.result.clone())
            .unwrap_or(Answer::Error);
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
            worst = Some(more_serious(worst, last.clone()));
            summaries.push(format!(
                "{name}: {} (tried {})",
                last.describe(),
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
            "result": if addresses.is_empty() { last } else { Answer::Answered },
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
        Some(Answer::Timeout | Answer::Unreachable) => runbook.push(Step::NetworkPolicy),
        Some(Answer::ServFail | Answer::Error) => runbook.push(Step::ServiceNotFound),
        Some(Answer::Answered) | None => {}
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

/// Orders failures by how much they explain: a dead nameserver hides everything else.
fn more_serious(current: Option<Answer>, next: Answer) -> Answer {
    let rank = |a: &Answer| match a {
        Answer::Unreachable => 6,
        Answer::Timeout => 5,
        Answer::ServFail => 4,
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

/// resolv.conf is a few lines; anything larger is not one.
const RESOLV_CONF_LIMIT: u64 = 1024 * 1024;

fn build_resolver(
    options: &CheckOptions,
    timeout: Duration,
) -> Result<(TokioResolver, Resolv), ConfigError> {
    let path = options.resolv_conf.display().to_string();
    let bytes = crate::files::read(&options.resolv_conf, RESOLV_CONF_LIMIT).map_err(|error| {
        ConfigError::Read {
            path: path.clone(),
            source: error.into(),
        }
    })?;
    // A resolv.conf without a nameserver is still useful when --nameserver is given.
    let (config, file_options) = match hickory_resolver::system_conf::parse_resolv_conf(&bytes) {
        Ok(parsed) => parsed,
        Err(source) if options.nameserver.is_none() => {
            return Err(ConfigError::Parse { path, source })
        }
        Err(_) => {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            text.push_str("\nnameserver 127.0.0.1\n");
            hickory_resolver::system_conf::parse_resolv_conf(text.as_bytes()).map_err(|source| {
                ConfigError::Parse {
                    path: path.clone(),
                    source,
                }
            })?
        }
    };
    let mut search: Vec<String> = config
        .search()
        .iter()
        .map(|name| name.to_ascii().trim_end_matches('.').to_string())
        .collect();
    if search.is_empty() {
        if let Some(domain) = config.domain() {
            search.push(domain.to_ascii().trim_end_matches('.').to_string());
        }
    }
    let name_servers: Vec<NameServerConfig> = match options.nameserver {
        Some(address) => {
            let mut server = NameServerConfig::udp_and_tcp(address.ip());
            for connection in &mut server.connections {
                connection.port = address.port();
            }
            vec![server]
        }
        None => config.name_servers().to_vec(),
    };
    let nameservers: Vec<String> = match options.nameserver {
        Some(address) => vec![address.to_string()],
        None => {
            let mut seen = Vec::new();
            for server in config.name_servers() {
                let text = server.ip.to_string();
                if !seen.contains(&text) {
                    seen.push(text);
                }
            }
            seen
        }
    };
    let addresses: Vec<SocketAddr> = match options.nameserver {
        Some(address) => vec![address],
        None => config
            .name_servers()
            .iter()
            .map(|server| {
                let port = server.connections.first().map_or(53, |c| c.port);
                SocketAddr::new(server.ip, port)
            })
            .collect(),
    };
    let mut resolver_options = ResolverOpts::default();
    // Every candidate is queried as an absolute name: the search list is applied here,
    // so that each try can be reported.
    resolver_options.ndots = 0;
    resolver_options.timeout = file_options.timeout.min(timeout);
    resolver_options.attempts = file_options.attempts.max(1);
    resolver_options.use_hosts_file = ResolveHosts::Never;
    resolver_options.cache_size = 0;
    let resolv = Resolv {
        resolv_conf: path,
        nameservers,
        search,
        ndots: file_options.ndots,
        timeout_ms: super::millis(file_options.timeout),
        attempts: file_options.attempts,
        addresses,
    };
    let config = ResolverConfig::from_parts(None, Vec::new(), name_servers);
    let resolver =
        hickory_resolver::Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(resolver_options)
            .build()
            .map_err(|source| ConfigError::Parse {
                path: resolv.resolv_conf.clone(),
                source,
            })?;
    Ok((resolver, resolv))
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
    resolver: &TokioResolver,
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
        let lookups = async {
            tokio::join!(
                resolver.lookup(name.clone(), RecordType::A),
                resolver.lookup(name.clone(), RecordType::AAAA)
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

type Combined = (Answer, Vec<String>, Vec<IpAddr>, Option<String>);

fn combine(
    a: Result<hickory_resolver::lookup::Lookup, NetError>,
    aaaa: Result<hickory_resolver::lookup::Lookup, NetError>,
) -> Combined {
    let mut records = Vec::new();
    let mut addresses = Vec::new();
    let mut failures = Vec::new();
    for result in [a, aaaa] {
        match result {
            Ok(lookup) => {
                for record in lookup.answers() {
                    let text = match &record.data {
                        RData::A(a) => {
                            addresses.push(IpAddr::V4(a.0));
                            format!("{} A {}", record.name, a.0)
                        }
                        RData::AAAA(aaaa) => {
                            addresses.push(IpAddr::V6(aaaa.0));
                            format!("{} AAAA {}", record.name, aaaa.0)
                        }
                        RData::CNAME(target) => format!("{} CNAME {}", record.name, target.0),
                        other => format!("{} {}", record.name, other.record_type()),
                    };
                    if !records.contains(&text) {
                        records.push(text);
                    }
                }
            }
            Err(error) => failures.push((classify(&error), error.to_string())),
        }
    }
    if !addresses.is_empty() {
        return (Answer::Answered, records, addresses, None);
    }
    let mut worst: Option<Answer> = None;
    let mut message = None;
    for (answer, text) in failures {
        // NXDOMAIN for one type is NXDOMAIN for the name.
        let ranked = if answer == Answer::NxDomain {
            Answer::NxDomain
        } else {
            more_serious(worst.clone().filter(|w| *w != Answer::NxDomain), answer)
        };
        if worst != Some(Answer::NxDomain) {
            worst = Some(ranked);
            message = Some(text);
        }
    }
    (
        worst.unwrap_or(Answer::NoData),
        records,
        Vec::new(),
        message,
    )
}

fn classify(error: &NetError) -> Answer {
    match error {
        NetError::Dns(DnsError::NoRecordsFound(no_records)) => match no_records.response_code {
            ResponseCode::NXDomain => Answer::NxDomain,
            ResponseCode::NoError => Answer::NoData,
            ResponseCode::ServFail => Answer::ServFail,
            _ => Answer::Error,
        },
        NetError::Dns(DnsError::ResponseCode(code)) => match *code {
            ResponseCode::NXDomain => Answer::NxDomain,
            ResponseCode::ServFail => Answer::ServFail,
            _ => Answer::Error,
        },
        NetError::Timeout => Answer::Timeout,
        NetError::NoConnections | NetError::Io(_) => Answer::Unreachable,
        _ => Answer::Error,
    }
}

/// Whether every nameserver refuses datagrams (ICMP port unreachable): `Some(reason)`.
/// A nameserver that answers or stays silent is not "refusing".
async fn nameservers_refuse(
    addresses: Vec<SocketAddr>,
    deadline: tokio::time::Instant,
) -> Option<String> {
    // A query for the root NS records: header (id, RD flag, one question), `.`, NS, IN.
    const QUERY: [u8; 17] = [
        0x4e, 0x44, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1,
    ];
    if addresses.is_empty() {
        return None;
    }
    let mut reasons = Vec::new();
    for address in addresses {
        let bind: SocketAddr = if address.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let Ok(socket) = tokio::net::UdpSocket::bind(bind).await else {
            return None;
        };
        if socket.connect(address).await.is_err() || socket.send(&QUERY).await.is_err() {
            return None;
        }
        let mut buffer = [0u8; 512];
        match timeout_at(deadline, socket.recv(&mut buffer)).await {
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                reasons.push(format!(
                    "{address} refuses DNS (ICMP port unreachable): nothing listens there"
                ));
            }
            _ => return None,
        }
    }
    Some(reasons.join("; "))
}

/// getaddrinfo, through tokio, with the step's time limit.
async fn system_resolve(name: &str, port: u16, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    match tokio::time::timeout(timeout, tokio::net::lookup_host((name, port))).await {
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(error)) => Err(error.to_string()),
        Ok(Ok(addresses)) => {
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
    use super::candidate_names;

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
