//! Step `tcp`: a TCP connection to every resolved address, all at once within the step's
//! one time limit: refused (nothing listens, or no endpoints), timed out (a dropped SYN:
//! a NetworkPolicy or firewall, or a full accept backlog), unreachable, reset.

use super::{Detail, ServerAddresses, Status, StepOutcome};
use serde::Serialize;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    Refused,
    TimedOut,
    Unreachable,
    Reset,
    Other,
}

impl Failure {
    pub fn describe(self) -> &'static str {
        match self {
            Failure::Refused => "connection refused (nothing listens there)",
            Failure::TimedOut => "timed out (packets dropped on the way)",
            Failure::Unreachable => "unreachable (no route to the address)",
            Failure::Reset => "connection reset",
            Failure::Other => "failed",
        }
    }
}

/// What `tcp` found: one entry per address, in the order they were resolved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TcpDetail {
    pub connections: Vec<TcpConnection>,
}

/// One connection attempt.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TcpConnection {
    pub address: String,
    pub result: TcpResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: f64,
}

/// How a connection attempt ended. The names are permanent: they appear in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpResult {
    Connected,
    Refused,
    TimedOut,
    Unreachable,
    Reset,
    Other,
}

impl TcpResult {
    /// Why the attempt failed, if it did.
    pub fn failure(self) -> Option<Failure> {
        match self {
            TcpResult::Connected => None,
            TcpResult::Refused => Some(Failure::Refused),
            TcpResult::TimedOut => Some(Failure::TimedOut),
            TcpResult::Unreachable => Some(Failure::Unreachable),
            TcpResult::Reset => Some(Failure::Reset),
            TcpResult::Other => Some(Failure::Other),
        }
    }
}

impl From<Failure> for TcpResult {
    fn from(failure: Failure) -> TcpResult {
        match failure {
            Failure::Refused => TcpResult::Refused,
            Failure::TimedOut => TcpResult::TimedOut,
            Failure::Unreachable => TcpResult::Unreachable,
            Failure::Reset => TcpResult::Reset,
            Failure::Other => TcpResult::Other,
        }
    }
}

/// Connects to one address within `timeout`.
pub async fn connect(
    address: SocketAddr,
    timeout: Duration,
) -> Result<TcpStream, (Failure, String)> {
    connect_until(address, tokio::time::Instant::now() + timeout, timeout).await
}

/// Connects to one address before `deadline`, the end of a step whose limit is
/// `timeout`.
async fn connect_until(
    address: SocketAddr,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<TcpStream, (Failure, String)> {
    match tokio::time::timeout_at(deadline, TcpStream::connect(address)).await {
        Err(_) => Err((
            Failure::TimedOut,
            format!("no answer within {} ms", timeout.as_millis()),
        )),
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(error)) => Err((classify(&error), error.to_string())),
    }
}

pub fn classify(error: &std::io::Error) -> Failure {
    match error.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::TimedOut => Failure::TimedOut,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => Failure::Unreachable,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => Failure::Reset,
        _ => match error.raw_os_error() {
            // EHOSTUNREACH, ENETUNREACH on Linux.
            Some(113 | 101) => Failure::Unreachable,
            _ => Failure::Other,
        },
    }
}

/// Connections open at once at most: each is a file descriptor, and a headless Service
/// can have hundreds of pods.
const CONNECTIONS_AT_ONCE: usize = 128;

/// Connects to every address at once, as clients that race their addresses do, all
/// within one deadline for the step; reports them in the order they were resolved.
pub async fn probe(
    targets: Vec<ServerAddresses>,
    timeout: Duration,
) -> (StepOutcome<TcpDetail>, Vec<ServerAddresses>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let slots = Semaphore::new(CONNECTIONS_AT_ONCE);
    let attempts = targets.iter().flat_map(|target| target.addresses.iter()).map(|address| {
        let slots = &slots;
        async move {
            let Ok(Ok(_slot)) = tokio::time::timeout_at(deadline, slots.acquire()).await else {
                return (
                    Err((
                        Failure::TimedOut,
                        format!(
                            "not tried: the step's time limit ran out with {CONNECTIONS_AT_ONCE} connections in progress"
                        ),
                    )),
                    Duration::ZERO,
                );
            };
            let attempt = Instant::now();
            let result = connect_until(*address, deadline, timeout).await.map(drop);
            (result, attempt.elapsed())
        }
    });
    let mut attempted = futures_util::future::join_all(attempts).await.into_iter();
    let mut results = Vec::new();
    let mut passed_targets = Vec::new();
    let mut failures = Vec::new();
    let mut passed = 0;
    for target in targets {
        let mut open = Vec::new();
        for address in &target.addresses {
            let Some((result, took)) = attempted.next() else {
                break;
            };
            match result {
                Ok(()) => {
                    passed += 1;
                    open.push(*address);
                    results.push(TcpConnection {
                        address: address.to_string(),
                        result: TcpResult::Connected,
                        error: None,
                        duration_ms: super::millis(took),
                    });
                }
                Err((failure, error)) => {
                    failures.push((*address, failure));
                    results.push(TcpConnection {
                        address: address.to_string(),
                        result: failure.into(),
                        error: Some(error),
                        duration_ms: super::millis(took),
                    });
                }
            }
        }
        passed_targets.push(ServerAddresses {
            server: target.server,
            addresses: open,
        });
    }
    let status = match (passed, failures.is_empty()) {
        (0, _) => Status::Fail,
        (_, false) => Status::Warn,
        (_, true) => Status::Pass,
    };
    let mut parts: Vec<String> = failures
        .iter()
        .map(|(address, failure)| format!("{address}: {}", failure.describe()))
        .collect();
    if passed > 0 {
        parts.insert(
            0,
            format!(
                "{passed} address{} accepted",
                if passed == 1 { "" } else { "es" }
            ),
        );
    }
    let outcome = StepOutcome {
        name: "tcp",
        status,
        duration: started.elapsed(),
        summary: parts.join("; "),
        detail: Detail::Found(TcpDetail {
            connections: results,
        }),
    };
    (outcome, passed_targets)
}
