//! Step `tcp`: a TCP connection to every resolved address, each within the step's time
//! limit: refused (nothing listens, or no endpoints), timed out (a dropped SYN: a
//! NetworkPolicy or firewall, or a full accept backlog), unreachable, reset.

use super::{Outcome, Status, Target};
use crate::runbook::Step;
use serde::Serialize;
use serde_json::json;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

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
    match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
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

pub async fn probe(targets: Vec<Target>, timeout: Duration) -> (Outcome, Vec<Target>) {
    let started = Instant::now();
    let mut results = Vec::new();
    let mut passed_targets = Vec::new();
    let mut failures = Vec::new();
    let mut passed = 0;
    for target in targets {
        let mut open = Vec::new();
        for address in &target.addresses {
            let attempt = Instant::now();
            match connect(*address, timeout).await {
                Ok(stream) => {
                    drop(stream);
                    passed += 1;
                    open.push(*address);
                    results.push(json!({
                        "address": address.to_string(),
                        "result": "connected",
                        "duration_ms": super::millis(attempt.elapsed()),
                    }));
                }
                Err((failure, error)) => {
                    failures.push((*address, failure));
                    results.push(json!({
                        "address": address.to_string(),
                        "result": failure,
                        "error": error,
                        "duration_ms": super::millis(attempt.elapsed()),
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
