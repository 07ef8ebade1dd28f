//! The pod's resolver: resolv.conf read as glibc reads it (nameservers, `search`,
//! `ndots`, `timeout`, `attempts`, `--nameserver` instead of the file's), the names a
//! pod tries for a host in glibc's order, and the search over them, each name asked
//! for A and AAAA at once until one answers or the search must stop.

use super::answer::{combine, loopback_name, read_answer, Answer, Lookup};
use super::exchange::{self, Nameservers};
use super::Candidate;
use crate::probe::CheckOptions;
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::time::timeout_at;

/// The resolver configuration in use, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct ResolverConfig {
    pub resolv_conf: String,
    pub nameservers: Vec<String>,
    pub search: Vec<String>,
    pub ndots: usize,
    pub timeout_ms: f64,
    pub attempts: usize,
    /// Where and how the queries go.
    #[serde(skip)]
    pub(super) servers: Nameservers,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot use {path}: it names no nameserver")]
    NoNameserver { path: String },
}

/// resolv.conf is a few lines; anything larger is not one.
const RESOLV_CONF_LIMIT: u64 = 1024 * 1024;
/// glibc's bounds on resolv.conf `attempts` (RES_MAXRETRY) and `timeout`
/// (RES_MAXRETRANS, seconds; 0 counts as 1).
const ATTEMPTS_LIMIT: usize = 5;
/// glibc's MAXNS: the nameservers of resolv.conf that are ever asked.
const NAMESERVERS_LIMIT: usize = 3;
const TRY_TIMEOUT_LIMIT: Duration = Duration::from_secs(30);

pub(super) fn read_resolv_conf(
    options: &CheckOptions,
    timeout: Duration,
) -> Result<ResolverConfig, ConfigError> {
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
    Ok(ResolverConfig {
        resolv_conf: path,
        nameservers,
        search,
        ndots: usize::try_from(config.ndots).unwrap_or(usize::MAX),
        timeout_ms: crate::probe::millis(file_timeout),
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
pub(super) async fn resolve_candidates(
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
                duration_ms: crate::probe::millis(started.elapsed()),
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
            duration_ms: crate::probe::millis(started.elapsed()),
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
