//! Step `tcp`: a TCP connection to every resolved address, all at once within the step's
//! one time limit: refused (nothing listens, or no endpoints), timed out (a dropped SYN:
//! a NetworkPolicy or firewall, or a full accept backlog), unreachable, reset.

use super::{Outcome, Status, Target};
use crate::runbook::Step;
use serde::Serialize;
use serde_json::json;
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
pub async fn probe(targets: Vec<Target>, timeout: Duration) -> (Outcome, Vec<Target>) {
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
                    results.push(json!({
                        "address": address.to_string(),
                        "result": "connected",
                        "duration_ms": super::millis(took),
                    }));
                }
                Err((failure, error)) => {
                    failures.push((*address, failure));
                    results.push(json!({
                        "address": address.to_string(),
                        "result": failure,
                        "error": error,
                        "duration_ms": super::millis(took),
                    }));
                }
            }
        }
        passed_targets.push(Target {
            server: target.server,
            addresses: open,
        });
    }
    let status = match (passed, failures.is_empty()) {
        (0, _) => Status::Fail,
        (_, false) => Status::Warn,
        (_, true) => Status::Pass,
    };
    let mut runbook = Vec::new();
    for (_, failure) in &failures {
        let step = match failure {
            Failure::Refused | Failure::Reset | Failure::Other => Step::ConnectionFailed,
            Failure::TimedOut | Failure::Unreachable => Step::NetworkPolicy,
        };
        if !runbook.contains(&step) {
            runbook.push(step);
        }
    }
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
    let outcome = Outcome {
        name: "tcp",
        status,
        duration: started.elapsed(),
        summary: parts.join("; "),
        detail: json!({ "connections": results }),
        runbook,
    };
    (outcome, passed_targets)
}
