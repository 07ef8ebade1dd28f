//! Step `nats`: the NATS handshake with every address that accepted TCP, all at once
//! and under one deadline for the whole step (the step's `--timeout`), as a client with
//! several addresses would race them.
//!
//! Each address gets the project's own client (`crate::nats`) with the real settings:
//! TLS files, credentials from flags, URL or NATS_* variables. The client judges the
//! server's first words, so what else answered is named — HTTP (the monitoring port),
//! `-ERR 'attempted to connect to route port'`, a TLS record (a handshake-first server),
//! or silence — and every `-ERR` of the handshake is seen verbatim. Silence is probed
//! twice: after half the time limit a `PING` is sent, because a protocol-sniffing proxy
//! (Istio, Linkerd) only forwards once the client speaks, and NATS is server-first. When
//! INFO came only then, the address is tried once more the way the services connect
//! (waiting in silence) for the rest of the time, which is what decides the verdict.
//! A PING/PONG after CONNECT gives the RTT; the first address that passed (in the
//! configured order) keeps its connection for the round trip.

use super::{Detail, ServerAddresses, Status, StepOutcome};
use crate::connection::ConnectionSettings;
use crate::nats::connect::{Attempt, FirstWords};
use crate::nats::tls::TlsConfig;
use crate::nats::{text, Client, Failure, FailureKind, Incoming};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// INFO fields worth reporting (`nonce` is per connection and says nothing).
const INFO_FIELDS: &[&str] = &[
    "server_id",
    "server_name",
    "version",
    "proto",
    "go",
    "host",
    "port",
    "headers",
    "auth_required",
    "tls_required",
    "tls_verify",
    "tls_available",
    "max_payload",
    "jetstream",
    "client_id",
    "client_ip",
    "cluster",
    "domain",
    "connect_urls",
    "ldm",
];

/// Why an address failed the handshake. The names appear in JSON (`diagnosis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    NoInfo,
    ClosedWithoutInfo,
    HttpPort,
    RoutePort,
    LeafnodePort,
    TlsFirst,
    NotNats,
    AuthorizationViolation,
    AuthenticationTimeout,
    TlsRequired,
    TlsError,
    MaximumConnections,
    ServerError,
    MalformedProtocol,
    Timeout,
    ConnectFailed,
}

impl Diagnosis {
    pub fn name(self) -> &'static str {
        match self {
            Diagnosis::NoInfo => "no_info",
            Diagnosis::ClosedWithoutInfo => "closed_without_info",
            Diagnosis::HttpPort => "http_port",
            Diagnosis::RoutePort => "route_port",
            Diagnosis::LeafnodePort => "leafnode_port",
            Diagnosis::TlsFirst => "tls_first",
            Diagnosis::NotNats => "not_nats",
            Diagnosis::AuthorizationViolation => "authorization_violation",
            Diagnosis::AuthenticationTimeout => "authentication_timeout",
            Diagnosis::TlsRequired => "tls_required",
            Diagnosis::TlsError => "tls_error",
            Diagnosis::MaximumConnections => "maximum_connections",
            Diagnosis::ServerError => "server_error",
            Diagnosis::MalformedProtocol => "malformed_protocol",
            Diagnosis::Timeout => "timeout",
            Diagnosis::ConnectFailed => "connect_failed",
        }
    }

    /// The diagnosis of a failure of the shared classification.
    pub fn of(kind: FailureKind) -> Diagnosis {
        match kind {
            FailureKind::NoInfo => Diagnosis::NoInfo,
            FailureKind::ClosedWithoutInfo => Diagnosis::ClosedWithoutInfo,
            FailureKind::HttpPort => Diagnosis::HttpPort,
            FailureKind::RoutePort => Diagnosis::RoutePort,
            FailureKind::LeafnodePort => Diagnosis::LeafnodePort,
            FailureKind::TlsFirst => Diagnosis::TlsFirst,
            FailureKind::NotNats => Diagnosis::NotNats,
            FailureKind::Authorization => Diagnosis::AuthorizationViolation,
            FailureKind::AuthenticationTimeout => Diagnosis::AuthenticationTimeout,
            FailureKind::TlsRequired => Diagnosis::TlsRequired,
            FailureKind::Tls => Diagnosis::TlsError,
            FailureKind::MaximumConnections => Diagnosis::MaximumConnections,
            FailureKind::ServerError => Diagnosis::ServerError,
            FailureKind::Protocol => Diagnosis::MalformedProtocol,
            FailureKind::TimedOut => Diagnosis::Timeout,
            FailureKind::Refused
            | FailureKind::Unreachable
            | FailureKind::Reset
            | FailureKind::Closed
            | FailureKind::Settings
            | FailureKind::Other => Diagnosis::ConnectFailed,
        }
    }
}

impl Serialize for Diagnosis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// What `nats` found: one entry per address that accepted TCP, in order, and the
/// diagnoses of those that failed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NatsDetail {
    pub addresses: Vec<NatsAddress>,
    pub diagnoses: Vec<Diagnosis>,
}

impl NatsDetail {
    /// Whether a proxy sniffed the protocol at some address (INFO came only after the
    /// client spoke).
    pub fn sniffed(&self) -> bool {
        self.addresses.iter().any(|address| address.sniffed)
    }
}

/// The handshake with one address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NatsAddress {
    pub address: String,
    /// The credentials used, as they may be printed.
    pub auth: String,
    pub auth_source: String,
    /// The INFO fields worth reporting, as the server sent them (texts capped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub result: AddressResult,
    pub duration_ms: f64,
    /// INFO came only after the client spoke.
    #[serde(skip)]
    pub sniffed: bool,
}

/// How the handshake with one address ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum AddressResult {
    /// Connected; `rtt_ms` is one PING/PONG, `None` when it did not come back in time.
    Pass {
        rtt_ms: Option<f64>,
    },
    Fail {
        diagnosis: Diagnosis,
        error: String,
    },
}

struct AddressFailure {
    diagnosis: Diagnosis,
    message: String,
}

impl From<&Failure> for AddressFailure {
    fn from(failure: &Failure) -> Self {
        AddressFailure {
            diagnosis: Diagnosis::of(failure.kind),
            message: failure.message.clone(),
        }
    }
}

/// An address that passed: its connection, INFO and PING/PONG time in milliseconds.
struct Passed {
    client: Client,
    info: Map<String, Value>,
    rtt: Option<f64>,
}

/// What one address gave.
struct Probed {
    address: SocketAddr,
    entry: NatsAddress,
    result: Result<Passed, AddressFailure>,
}

pub async fn probe(
    targets: &[ServerAddresses],
    connection: &ConnectionSettings,
) -> (StepOutcome<NatsDetail>, Option<Client>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + connection.timeout;
    let tls = connection
        .tls_config()
        .map(Arc::new)
        .map_err(|error| Failure::new(FailureKind::Tls, error.to_string()));
    let attempts = targets.iter().flat_map(|target| {
        target
            .addresses
            .iter()
            .map(move |address| (target, *address))
    });
    let probed = futures_util::future::join_all(
        attempts
            .map(|(target, address)| probe_address(target, address, connection, &tls, deadline)),
    )
    .await;

    let mut results = Vec::new();
    let mut kept: Option<Client> = None;
    let mut failures: Vec<(SocketAddr, AddressFailure)> = Vec::new();
    let mut warnings = Vec::new();
    let mut passed = 0;
    let mut first_info: Option<(SocketAddr, Map<String, Value>, Option<f64>)> = None;
    for Probed {
        address,
        entry,
        result,
    } in probed
    {
        if entry.sniffed {
            warnings.push(format!(
                "{address}: INFO arrived only after the client spoke; a proxy sniffs the protocol (name the Service port tcp-… or set appProtocol: tcp)"
            ));
        }
        match result {
            Err(failure) => failures.push((address, failure)),
            Ok(Passed { client, info, rtt }) => {
                passed += 1;
                if first_info.is_none() {
                    first_info = Some((address, info, rtt));
                }
                // Only one connection goes on to the round trip; dropping the others
                // closes them without waiting.
                if kept.is_none() {
                    kept = Some(client);
                }
            }
        }
        results.push(entry);
    }

    let status = match (passed, failures.is_empty() && warnings.is_empty()) {
        (0, _) => Status::Fail,
        (_, false) => Status::Warn,
        (_, true) => Status::Pass,
    };
    let mut parts = Vec::new();
    if let Some((address, info, rtt)) = &first_info {
        parts.push(format!("{address}: {}", facts(info, *rtt)));
    }
    for (address, failure) in &failures {
        parts.push(format!("{address}: {}", failure.message));
    }
    parts.extend(warnings.iter().cloned());
    let outcome = StepOutcome {
        name: "nats",
        status,
        duration: started.elapsed(),
        summary: parts.join("; "),
        detail: Detail::Found(NatsDetail {
            addresses: results,
            diagnoses: failures.iter().map(|(_, f)| f.diagnosis).collect(),
        }),
    };
    (outcome, kept)
}

/// `nats-server 2.10.0, name n1, max_payload 1048576, auth not required, …`.
fn facts(info: &Map<String, Value>, rtt: Option<f64>) -> String {
    let text = |key: &str| {
        info.get(key)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let flag = |key: &str| info.get(key).and_then(Value::as_bool).unwrap_or(false);
    let mut facts = vec![
        format!("nats-server {}", text("version")),
        format!("name {}", text("server_name")),
    ];
    if let Some(max) = info.get("max_payload").and_then(Value::as_u64) {
        facts.push(format!("max_payload {max}"));
    }
    facts.push(format!(
        "auth {}",
        if flag("auth_required") {
            "required"
        } else {
            "not required"
        }
    ));
    facts.push(format!(
        "TLS {}",
        if flag("tls_required") {
            "required"
        } else {
            "off"
        }
    ));
    facts.push(format!(
        "JetStream {}",
        if flag("jetstream") { "on" } else { "off" }
    ));
    if let Some(rtt) = rtt {
        facts.push(format!("PING/PONG {rtt:.3} ms"));
    }
    facts.join(", ")
}

/// The INFO fields worth reporting, their texts capped like every server text.
fn reported_fields(fields: &Map<String, Value>) -> Map<String, Value> {
    fn capped(value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(text::cap(text, text::MAX_SERVER_TEXT)),
            Value::Array(items) => Value::Array(items.iter().map(capped).collect()),
            other => other.clone(),
        }
    }
    let mut info = Map::new();
    for key in INFO_FIELDS {
        if let Some(value) = fields.get(*key) {
            info.insert((*key).to_string(), capped(value));
        }
    }
    info
}

async fn probe_address(
    target: &ServerAddresses,
    address: SocketAddr,
    connection: &ConnectionSettings,
    tls: &Result<Arc<TlsConfig>, Failure>,
    deadline: tokio::time::Instant,
) -> Probed {
    let attempt_started = Instant::now();
    let (_, auth_source) = connection.auth_for(&target.server);
    let mut info: Option<Map<String, Value>> = None;
    let mut sniffed = false;
    let outcome = async {
        let tls = tls.as_ref().map_err(AddressFailure::from)?;
        let dialer = connection
            .dialer(&target.server, tls)
            .map_err(|error| AddressFailure {
                diagnosis: Diagnosis::ConnectFailed,
                message: error.to_string(),
            })?;
        let attempt = Attempt {
            deadline,
            limit: connection.timeout,
            first_words: FirstWords::Nudge,
        };
        let mut client = match dialer.connect(address, attempt).await {
            Ok(client) => client,
            Err(error) => {
                if let Some(sent) = &error.info {
                    info = Some(reported_fields(&sent.fields));
                }
                sniffed = error.info_after_nudge;
                return Err(AddressFailure::from(&error.failure));
            }
        };
        info = Some(reported_fields(&client.info().fields));
        if client.handshake().info_after_nudge {
            sniffed = true;
            drop(client);
            // What the services would see: a client that waits for INFO in silence.
            let quiet = Attempt {
                first_words: FirstWords::Wait,
                ..attempt
            };
            client = match dialer.connect(address, quiet).await {
                Ok(client) => client,
                Err(error) if error.kind() == FailureKind::NoInfo => {
                    return Err(AddressFailure {
                        diagnosis: Diagnosis::Timeout,
                        message: format!(
                        "a client that waits for INFO, as NATS clients do, got none within {} ms",
                        connection.timeout.as_millis()
                    ),
                    })
                }
                Err(error) => return Err(AddressFailure::from(&error.failure)),
            };
        }
        let rtt = ping_pong(&mut client, deadline).await;
        let info = reported_fields(&client.info().fields);
        Ok(Passed {
            client,
            info,
            rtt: rtt.map(super::millis),
        })
    }
    .await;
    let result = match &outcome {
        Ok(passed) => AddressResult::Pass { rtt_ms: passed.rtt },
        Err(failure) => AddressResult::Fail {
            diagnosis: failure.diagnosis,
            error: failure.message.clone(),
        },
    };
    let entry = NatsAddress {
        address: address.to_string(),
        auth: connection.describe_auth(&target.server),
        auth_source: auth_source.to_string(),
        info,
        result,
        duration_ms: super::millis(attempt_started.elapsed()),
        sniffed,
    };
    Probed {
        address,
        entry,
        result: outcome,
    }
}

/// The time of one PING/PONG on an established connection, if it came back in time.
async fn ping_pong(client: &mut Client, deadline: tokio::time::Instant) -> Option<Duration> {
    let sent = Instant::now();
    client.ping();
    tokio::time::timeout_at(deadline, async {
        // Bounded: each pass consumes an operation; the deadline ends the wait.
        loop {
            match client.next().await {
                Ok(Incoming::Pong) => return Some(sent.elapsed()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}
