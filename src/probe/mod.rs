//! `nats-doctor check`: the probe steps, each with an explicit time limit, each in its
//! own file and returning its own detail type — [`config`] (`ConfigDetail`), [`url`]
//! (`UrlDetail`), [`dns`] (`DnsDetail`), [`tcp`] (`TcpDetail`), [`nats`] (`NatsDetail`),
//! [`roundtrip`] (`RoundtripDetail`) — in a [`StepOutcome`]; the hard limit of the whole
//! run ([`NETWORK_STEPS`] × `--timeout`); the runbook entries the failing or warning
//! steps point to ([`runbook`]); and the verdict ([`verdict`]). Probing never prints;
//! `report/check/` does.
//!
//! A comma-separated server list is split here (clients do not split it), and each
//! server and each resolved address is probed on its own, in order. A step works on
//! what the previous step let through: addresses that resolved, then accepted TCP, then
//! completed the NATS handshake.

pub mod config;
pub mod dns;
pub mod nats;
pub mod roundtrip;
pub mod runbook;
pub mod tcp;
pub mod url;
pub mod verdict;

use crate::connection::ConnectionSettings;
use crate::natsurl::ServerUrl;
use serde::{Serialize, Serializer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

/// What one step found: what every step says (its name, status, time and a one-line
/// summary), and the facts of its own kind `D`.
#[derive(Clone, Debug)]
pub struct StepOutcome<D> {
    /// Permanent: it appears in JSON output.
    pub name: &'static str,
    pub status: Status,
    pub duration: Duration,
    pub summary: String,
    pub detail: Detail<D>,
}

/// The facts of a step, when it ran to its end.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail<D> {
    Found(D),
    /// Skipped: nothing to report (`{}` in JSON).
    NotRun,
    /// Stopped at the run's time limit.
    CutOff(CutOff),
}

impl<D> Detail<D> {
    /// The step's own facts, if it ran to its end.
    pub fn found(&self) -> Option<&D> {
        match self {
            Detail::Found(detail) => Some(detail),
            Detail::NotRun | Detail::CutOff(_) => None,
        }
    }
}

impl<D: Serialize> Serialize for Detail<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Detail::Found(detail) => detail.serialize(serializer),
            Detail::NotRun => {
                use serde::ser::SerializeMap;
                serializer.serialize_map(Some(0))?.end()
            }
            Detail::CutOff(cut) => cut.serialize(serializer),
        }
    }
}

/// The detail of a step stopped at the run's time limit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CutOff {
    /// Always true: tells this detail from a step's own in JSON.
    pub cut_off: bool,
    pub run_limit_ms: f64,
}

impl<D> StepOutcome<D> {
    pub fn skipped(name: &'static str, why: &str) -> StepOutcome<D> {
        StepOutcome {
            name,
            status: Status::Skip,
            duration: Duration::ZERO,
            summary: why.to_string(),
            detail: Detail::NotRun,
        }
    }

    /// The header every step has, for printers that go through all of them.
    pub fn header(&self) -> StepHeader<'_> {
        StepHeader {
            name: self.name,
            status: self.status,
            duration: self.duration,
            summary: &self.summary,
        }
    }
}

/// What every step says, whatever its kind.
#[derive(Clone, Copy, Debug)]
pub struct StepHeader<'a> {
    pub name: &'static str,
    pub status: Status,
    pub duration: Duration,
    pub summary: &'a str,
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
    /// The name of the pod that runs the check, when known.
    pub pod: Option<String>,
    pub cluster_domain: String,
}

/// A server of the list with the addresses that passed the steps so far.
#[derive(Clone, Debug)]
pub struct ServerAddresses {
    pub server: ServerUrl,
    pub addresses: Vec<SocketAddr>,
}

/// What a check run found, step by step.
#[derive(Debug)]
pub struct CheckReport {
    /// The server list with credentials masked.
    pub masked_url: String,
    /// Messaging is switched off: nothing was probed.
    pub disabled: bool,
    pub config: StepOutcome<config::ConfigDetail>,
    pub url: StepOutcome<url::UrlDetail>,
    pub dns: StepOutcome<dns::DnsDetail>,
    pub tcp: StepOutcome<tcp::TcpDetail>,
    pub nats: StepOutcome<nats::NatsDetail>,
    pub roundtrip: StepOutcome<roundtrip::RoundtripDetail>,
    pub runbook: Vec<crate::runbook::Entry>,
    pub duration: Duration,
}

impl CheckReport {
    /// No step failed.
    pub fn ok(&self) -> bool {
        self.steps().iter().all(|step| step.status != Status::Fail)
    }

    /// Every step's header, in order.
    pub fn steps(&self) -> [StepHeader<'_>; 6] {
        [
            self.config.header(),
            self.url.header(),
            self.dns.header(),
            self.tcp.header(),
            self.nats.header(),
            self.roundtrip.header(),
        ]
    }
}

/// The steps after `config`, before they run.
struct Later {
    url: StepOutcome<url::UrlDetail>,
    dns: StepOutcome<dns::DnsDetail>,
    tcp: StepOutcome<tcp::TcpDetail>,
    nats: StepOutcome<nats::NatsDetail>,
    roundtrip: StepOutcome<roundtrip::RoundtripDetail>,
}

impl Later {
    fn skipped(why: &str) -> Later {
        Later {
            url: StepOutcome::skipped("url", why),
            dns: StepOutcome::skipped("dns", why),
            tcp: StepOutcome::skipped("tcp", why),
            nats: StepOutcome::skipped("nats", why),
            roundtrip: StepOutcome::skipped("roundtrip", why),
        }
    }
}

/// Runs every step, in order.
pub async fn run(connection: &ConnectionSettings, options: &CheckOptions) -> CheckReport {
    let started = Instant::now();
    let masked_url = masked_list(&connection.settings.url.value);
    let config = config::probe(connection, options);
    let disabled = !connection.settings.messaging_enabled();
    let later = if disabled {
        Later::skipped("messaging is disabled")
    } else {
        let mut later = Later::skipped("not run: the run's time limit ran out");
        let (url, servers) = url::probe(connection, options);
        later.url = url;
        let limit = RunLimit::new(connection.timeout);
        network_steps(&servers, connection, options, &limit, &mut later).await;
        later
    };
    let mut report = CheckReport {
        masked_url,
        disabled,
        config,
        url: later.url,
        dns: later.dns,
        tcp: later.tcp,
        nats: later.nats,
        roundtrip: later.roundtrip,
        runbook: Vec::new(),
        duration: Duration::ZERO,
    };
    // NATS_ENABLED=yes is the case worth a runbook when messaging is off: the services
    // read it as false.
    report.runbook = runbook::entries(&report, connection, options);
    report.duration = started.elapsed();
    report
}

/// dns → tcp → nats → roundtrip, each on what the one before let through. Returns early
/// when the run's limit cuts a step off; the steps not run keep their skipped outcome.
async fn network_steps(
    servers: &[ServerUrl],
    connection: &ConnectionSettings,
    options: &CheckOptions,
    limit: &RunLimit,
    steps: &mut Later,
) {
    let timeout = connection.timeout;
    let targets = if servers.is_empty() {
        steps.dns = StepOutcome::skipped("dns", "no usable server URL");
        Vec::new()
    } else {
        match limit
            .run("dns", dns::probe(servers, timeout, options))
            .await
        {
            Ok((outcome, targets)) => {
                steps.dns = outcome;
                targets
            }
            Err(cut) => {
                steps.dns = cut;
                return;
            }
        }
    };
    let targets = if targets.iter().all(|t| t.addresses.is_empty()) {
        steps.tcp = StepOutcome::skipped("tcp", "no address to connect to");
        Vec::new()
    } else {
        match limit.run("tcp", tcp::probe(targets, timeout)).await {
            Ok((outcome, targets)) => {
                steps.tcp = outcome;
                targets
            }
            Err(cut) => {
                steps.tcp = cut;
                return;
            }
        }
    };
    let client = if targets.iter().all(|t| t.addresses.is_empty()) {
        steps.nats = StepOutcome::skipped("nats", "no address accepted a TCP connection");
        None
    } else {
        match limit.run("nats", nats::probe(&targets, connection)).await {
            Ok((outcome, client)) => {
                steps.nats = outcome;
                client
            }
            Err(cut) => {
                steps.nats = cut;
                return;
            }
        }
    };
    steps.roundtrip = match client {
        Some(client) => limit
            .run("roundtrip", roundtrip::probe(client, timeout, options))
            .await
            .unwrap_or_else(|cut| cut),
        None => StepOutcome::skipped("roundtrip", "no NATS connection to test with"),
    };
}

/// The steps that wait on the network (dns, tcp, nats, roundtrip); each has `--timeout`.
pub const NETWORK_STEPS: u32 = 4;

/// The hard limit of a run: [`NETWORK_STEPS`] × `--timeout` from the first network step.
/// Each step keeps to its own limit; this one holds whatever a step does, so that a run
/// ends in bounded time however the network behaves. A step still running when the
/// limit is reached is stopped (its sockets closed) and fails as cut off; the steps
/// after it are skipped for want of what it would have found.
struct RunLimit {
    deadline: tokio::time::Instant,
    limit: Duration,
}

impl RunLimit {
    fn new(timeout: Duration) -> RunLimit {
        let limit = timeout.saturating_mul(NETWORK_STEPS);
        let now = tokio::time::Instant::now();
        RunLimit {
            // `--timeout` is at most an hour; the fallback only keeps this total.
            deadline: now
                .checked_add(limit)
                .unwrap_or_else(|| now + Duration::from_secs(4 * 3600)),
            limit,
        }
    }

    /// `step` to its end, or the outcome of a step cut off at the run's limit.
    async fn run<T, D>(
        &self,
        name: &'static str,
        step: impl std::future::Future<Output = T>,
    ) -> Result<T, StepOutcome<D>> {
        let started = Instant::now();
        tokio::time::timeout_at(self.deadline, step)
            .await
            .map_err(|_| StepOutcome {
                name,
                status: Status::Fail,
                duration: started.elapsed(),
                summary: format!(
                    "cut off: the run's time limit ({NETWORK_STEPS} × --timeout = {} ms) ran out before this step ended",
                    self.limit.as_millis()
                ),
                detail: Detail::CutOff(CutOff {
                    cut_off: true,
                    run_limit_ms: millis(self.limit),
                }),
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_never_ends_is_cut_off_at_the_run_limit() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let started = Instant::now();
        let result: Result<(), StepOutcome<()>> = runtime.block_on(async {
            RunLimit::new(Duration::from_millis(25))
                .run("nats", std::future::pending::<()>())
                .await
        });
        let elapsed = started.elapsed();
        let Err(cut) = result else {
            panic!("a step that never ends ended");
        };
        assert_eq!(cut.name, "nats");
        assert_eq!(cut.status, Status::Fail);
        assert!(
            cut.summary.contains("4 × --timeout = 100 ms"),
            "{}",
            cut.summary
        );
        assert_eq!(
            serde_json::to_string(&cut.detail).expect("json"),
            r#"{"cut_off":true,"run_limit_ms":100.0}"#
        );
        assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    }

    #[test]
    fn a_step_not_run_has_an_empty_detail() {
        let skipped: StepOutcome<()> = StepOutcome::skipped("dns", "why");
        assert_eq!(serde_json::to_string(&skipped.detail).expect("json"), "{}");
    }
}
