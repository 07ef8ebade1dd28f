//! Step `dns`: resolves each server's host the way a pod does — the resolv.conf search
//! list and `ndots`, names tried in glibc's order, each nameserver `attempts` times —
//! with queries of its own, so that the report says which names were tried, what each
//! answered and which one won. Every kind of failed answer has its name: NXDOMAIN,
//! NODATA, SERVFAIL, REFUSED, NOTIMP, FORMERR, a timeout, an unreachable nameserver
//! (ICMP), a truncated reply without a usable TCP retry, a reply too short for a
//! header, a compression-pointer loop, a length past the end of the message, a reply
//! for another name or with another id, a CNAME loop and a CNAME chain too long.
//! The system resolver (getaddrinfo, what the client libraries use) resolves the same
//! host alongside, on a thread of its own that nothing waits for once the step is over;
//! a disagreement is a warning. All hosts are resolved at once, within the step's one
//! deadline.
//!
//! The parts, by job: [`resolv`] reads resolv.conf and runs the search over the
//! candidate names, `exchange` sends the queries (UDP, TCP after a truncated reply,
//! ICMP errors), [`answer`] reads the replies, [`system`] asks getaddrinfo; this file
//! is the step, and what it returns ([`DnsDetail`]).

pub mod answer;
mod exchange;
pub mod resolv;
mod system;

pub use answer::{Answer, CNAME_CHAIN_LIMIT};
pub use resolv::{candidate_names, ResolverConfig};

use super::{CheckOptions, Detail, ServerAddresses, Status, StepOutcome};
use crate::natsurl::{Host, ServerUrl};
use answer::more_serious;
use resolv::{read_resolv_conf, resolve_candidates};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use system::system_resolve;
use tokio::time::timeout_at;

/// What `dns` found.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum DnsDetail {
    /// The hosts were resolved (or tried).
    Resolved {
        resolver: ResolverConfig,
        hosts: Vec<HostResolution>,
        /// Where the pod's DNS and the system resolver disagree.
        disagreements: Vec<String>,
        /// The most serious failure among the hosts that did not resolve.
        #[serde(skip)]
        worst: Option<Answer>,
    },
    /// resolv.conf could not be read or used.
    Unusable { error: String },
}

/// What one host came to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostResolution {
    pub host: String,
    /// The names tried, in order, and what each returned.
    pub candidates: Vec<Candidate>,
    pub answered_by: Option<String>,
    pub addresses: Vec<String>,
    pub result: Answer,
    /// What getaddrinfo said, unless `--no-system-resolver`.
    pub system: Option<SystemAnswer>,
    /// Whether the two agree, when both were asked.
    pub agree: Option<bool>,
}

/// What the system resolver said about a host.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SystemAnswer {
    Addresses { addresses: Vec<String> },
    Error { error: String },
}

/// One name tried for a host, and what it came to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub name: String,
    pub result: Answer,
    /// The records of the reply, as text (`name A 10.0.0.1`).
    pub records: Vec<String>,
    /// Which nameserver sent what, and what was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: f64,
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
) -> (StepOutcome<DnsDetail>, Vec<ServerAddresses>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let names: Vec<&ServerUrl> = servers
        .iter()
        .filter(|s| matches!(s.host, Host::Name { .. }))
        .collect();
    let literal_targets = || {
        servers
            .iter()
            .map(|server| ServerAddresses {
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
            StepOutcome::skipped("dns", "every host is an IP address; nothing to resolve"),
            literal_targets(),
        );
    }

    let resolv = match read_resolv_conf(options, timeout) {
        Ok(resolv) => resolv,
        Err(error) => {
            return (
                StepOutcome {
                    name: "dns",
                    status: Status::Fail,
                    duration: started.elapsed(),
                    summary: error.to_string(),
                    detail: Detail::Found(DnsDetail::Unusable {
                        error: error.to_string(),
                    }),
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
        hosts.push(HostResolution {
            host: name,
            candidates: tried,
            answered_by,
            result: if addresses.is_empty() {
                last_result
            } else {
                Answer::Answered
            },
            addresses: addresses.iter().map(IpAddr::to_string).collect(),
            system: system.map(|result| match result {
                Ok(addresses) => SystemAnswer::Addresses {
                    addresses: addresses.iter().map(IpAddr::to_string).collect(),
                },
                Err(error) => SystemAnswer::Error { error },
            }),
            agree,
        });
    }

    let any_address = targets.iter().any(|t| !t.addresses.is_empty());
    let status = if !any_address {
        Status::Fail
    } else if worst.is_some() || !disagreements.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let mut summary = summaries.join("; ");
    if resolved_hosts > 0 && !disagreements.is_empty() {
        summary.push_str("; ");
        summary.push_str(&disagreements.join("; "));
    }
    let outcome = StepOutcome {
        name: "dns",
        status,
        duration: started.elapsed(),
        summary,
        detail: Detail::Found(DnsDetail::Resolved {
            resolver: resolv,
            hosts,
            disagreements,
            worst,
        }),
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

/// Hosts resolved at once: each has two queries and a getaddrinfo thread in flight, and
/// a server list can be long.
const HOSTS_AT_ONCE: usize = 16;
