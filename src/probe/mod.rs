//! `nats-doctor check`: the probe steps (config, url, dns, tcp, nats, roundtrip), each
//! with an explicit time limit, each returning an [`Outcome`]; then the runbook entries
//! the failing or warning steps point to. Probing never prints; `report/` does.
//!
//! A comma-separated server list is split here (clients do not split it), and each
//! server and each resolved address is probed on its own, in order. A step works on
//! what the previous step let through: addresses that resolved, then accepted TCP, then
//! completed the NATS handshake.

pub mod config;
pub mod dns;
pub mod nats;
pub mod roundtrip;
pub mod runbook_map;
pub mod tcp;
pub mod url;

use crate::connection::Connection;
use crate::natsurl::ServerUrl;
use crate::runbook::{self, Step};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The step names, in order. Permanent: they appear in JSON output.
pub const STEP_NAMES: [&str; 6] = ["config", "url", "dns", "tcp", "nats", "roundtrip"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// What one step found.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub name: &'static str,
    pub status: Status,
    pub duration: Duration,
    pub summary: String,
    /// Step-specific facts, for `--format json` and the text detail lines.
    pub detail: serde_json::Value,
    /// Troubleshooting steps this outcome points to (only for warn/fail).
    pub runbook: Vec<Step>,
}

impl Outcome {
    pub fn skipped(name: &'static str, why: &str) -> Outcome {
        Outcome {
            name,
            status: Status::Skip,
            duration: Duration::ZERO,
            summary: why.to_string(),
            detail: serde_json::Value::Object(serde_json::Map::new()),
            runbook: Vec::new(),
        }
    }
}

/// Options of a check run beyond the connection settings.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub resolv_conf: PathBuf,
    pub nameserver: Option<SocketAddr>,
    pub system_resolver: bool,
    pub count: usize,
    pub subject: Option<String>,
    /// The namespace of the pod that runs the check, when known.
    pub namespace: Option<String>,
    pub cluster_domain: String,
}

/// A server of the list with the addresses that passed the steps so far.
#[derive(Clone, Debug)]
pub struct Target {
    pub server: ServerUrl,
    pub addresses: Vec<SocketAddr>,
}

/// The verdict of a check run.
#[derive(Debug)]
pub struct CheckReport {
    /// The server list with credentials masked.
    pub url: String,
    /// Messaging is switched off: nothing was probed.
    pub disabled: bool,
    pub steps: Vec<Outcome>,
    pub runbook: Vec<runbook::Entry>,
    pub duration: Duration,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|step| step.status != Status::Fail)
    }
}

/// Runs every step, in order.
pub async fn run(connection: &Connection, options: &CheckOptions) -> CheckReport {
    let started = Instant::now();
    let url = masked_list(&connection.settings.url.value);
    let mut steps = Vec::new();

    let config = config::probe(connection, options);
    let disabled = !connection.settings.messaging_enabled();
    steps.push(config);
    if disabled {
        for name in &STEP_NAMES[1..] {
            steps.push(Outcome::skipped(name, "messaging is disabled"));
        }
        // NATS_ENABLED=yes is the case worth a runbook: the services read it as false.
        let runbook = runbook_map::entries(&steps, connection, options);
        return CheckReport {
            url,
            disabled,
            steps,
            runbook,
            duration: started.elapsed(),
        };
    }

    let (url_outcome, servers) = url::probe(connection, options);
    steps.push(url_outcome);
    let (dns_outcome, targets) = if servers.is_empty() {
        (Outcome::skipped("dns", "no usable server URL"), Vec::new())
    } else {
        dns::probe(&servers, connection.timeout, options).await
    };
    steps.push(dns_outcome);
    let (tcp_outcome, targets) = if targets.iter().all(|t| t.addresses.is_empty()) {
        (
            Outcome::skipped("tcp", "no address to connect to"),
            Vec::new(),
        )
    } else {
        tcp::probe(targets, connection.timeout).await
    };
    steps.push(tcp_outcome);
    let (nats_outcome, client) = if targets.iter().all(|t| t.addresses.is_empty()) {
        (
            Outcome::skipped("nats", "no address accepted a TCP connection"),
            None,
        )
    } else {
        nats::probe(&targets, connection).await
    };
    steps.push(nats_outcome);
    let roundtrip_outcome = match client {
        Some(client) => roundtrip::probe(client, connection.timeout, options).await,
        None => Outcome::skipped("roundtrip", "no NATS connection to test with"),
    };
    steps.push(roundtrip_outcome);

    let runbook = runbook_map::entries(&steps, connection, options);
    CheckReport {
        url,
        disabled,
        steps,
        runbook,
        duration: started.elapsed(),
    }
}

/// The server list as it may be printed: each parsable entry masked and normalised, the
/// others as written with their credentials masked.
pub fn masked_list(value: &str) -> String {
    let entries = crate::natsurl::parse_server_list(value);
    let starts: Vec<usize> = entries
        .iter()
        .map(|entry| match entry {
            crate::natsurl::Entry::Server(server) => server.offset,
            crate::natsurl::Entry::Invalid { offset, .. } => *offset,
        })
        .collect();
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| match entry {
            crate::natsurl::Entry::Server(server) => server.masked(),
            crate::natsurl::Entry::Invalid { offset, .. } => {
                let end = starts
                    .get(index + 1)
                    .map_or(value.len(), |next| next.saturating_sub(1));
                crate::natsurl::mask_credentials(value.get(*offset..end).unwrap_or_default())
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Milliseconds with microsecond precision, for durations in outputs.
pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The namespace of the pod this runs in: `POD_NAMESPACE`, else the service-account
/// namespace file.
pub fn pod_namespace(environment: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(namespace) = environment("POD_NAMESPACE").filter(|ns| !ns.trim().is_empty()) {
        return Some(namespace.trim().to_string());
    }
    crate::files::read_to_string(
        Path::new("/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
        256,
    )
    .ok()
    .map(|text| text.trim().to_string())
    .filter(|ns| !ns.is_empty())
}
