//! Step `roundtrip`: subscribe to a private subject (`_nats_doctor.<random>`, or
//! `--subject`), publish `--count` messages one at a time, receive each, and verify its
//! bytes and order; RTT min/p50/p99/max. Subscribing, publishing and receiving all run
//! under one deadline, the step's `--timeout`. Server errors (Permissions Violation on
//! publish or subscribe, Authorization Violation, Maximum Payload) arrive on the same
//! connection as the messages, so a violation ends the step at once, by name, instead
//! of as a timeout; so does a server that breaks the protocol.

use super::{CheckOptions, Detail, Status, StepOutcome};
use crate::nats::{Client, Failure, FailureKind, Incoming};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Size of each test message.
const PAYLOAD_BYTES: usize = 64;

/// What `roundtrip` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundtripDetail {
    /// The address whose connection the messages went over.
    pub address: String,
    pub subject: String,
    /// Messages sent (`--count`).
    pub count: usize,
    /// Messages that came back intact and in order.
    pub received: usize,
    pub payload_bytes: usize,
    pub rtt_ms: RttStatistics,
    pub problem: Option<ProblemKind>,
    /// The server's errors, as it wrote them.
    pub server_errors: Vec<String>,
}

/// Publish-to-receive times of the messages that came back, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RttStatistics {
    pub min: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// Why the round trip failed. The names are permanent: they appear in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    PermissionsViolation,
    AuthorizationViolation,
    ServerError,
    Disconnected,
    MalformedProtocol,
    Timeout,
    Mismatch,
    ClientError,
}

#[derive(Debug)]
enum Problem {
    Permission(String),
    Authorization(String),
    ServerError(String),
    Disconnected(Failure),
    Protocol(String),
    Timeout,
    Mismatch { detail: String },
    Client(String),
}

impl Problem {
    fn kind(&self) -> ProblemKind {
        match self {
            Problem::Permission(_) => ProblemKind::PermissionsViolation,
            Problem::Authorization(_) => ProblemKind::AuthorizationViolation,
            Problem::ServerError(_) => ProblemKind::ServerError,
            Problem::Disconnected(_) => ProblemKind::Disconnected,
            Problem::Protocol(_) => ProblemKind::MalformedProtocol,
            Problem::Timeout => ProblemKind::Timeout,
            Problem::Mismatch { .. } => ProblemKind::Mismatch,
            Problem::Client(_) => ProblemKind::ClientError,
        }
    }

    /// A server error, named.
    fn server(text: &str) -> Problem {
        let lower = text.to_lowercase();
        if lower.contains("permissions violation") {
            Problem::Permission(text.to_string())
        } else if lower.contains("authorization violation") {
            Problem::Authorization(text.to_string())
        } else {
            Problem::ServerError(text.to_string())
        }
    }

    /// The connection failed while the step waited.
    fn lost(failure: Failure) -> Problem {
        match failure.kind {
            FailureKind::Protocol => Problem::Protocol(failure.message),
            _ => Problem::Disconnected(failure),
        }
    }
}

/// The message number `index` of this run: sequence number, run token, filler.
fn payload(index: usize, token: &str) -> Vec<u8> {
    let mut text = format!("nats-doctor {index:010} {token} ");
    let filler = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut at = index;
    while text.len() < PAYLOAD_BYTES {
        text.push(char::from(filler[at % filler.len()]));
        at += 7;
    }
    text.truncate(PAYLOAD_BYTES);
    text.into_bytes()
}

/// Why a received message is not the expected one.
fn mismatch(index: usize, got: &[u8]) -> Problem {
    let text = String::from_utf8_lossy(got);
    let detail = match text.get(12..22).and_then(|n| n.parse::<usize>().ok()) {
        Some(other) if other != index => {
            format!("expected message {index}, got message {other} (order or loss)")
        }
        _ => format!(
            "message {index} arrived with different bytes ({} bytes)",
            got.len()
        ),
    };
    Problem::Mismatch { detail }
}

/// Subscribes, then publishes and receives each message in turn. `rtts` collects the
/// time of each message that came back intact.
async fn exchange(
    client: &mut Client,
    subject: &str,
    token: &str,
    count: usize,
    rtts: &mut Vec<Duration>,
) -> Result<(), Problem> {
    let sid = client
        .subscribe(subject)
        .map_err(|error| Problem::Client(error.to_string()))?;
    for index in 0..count {
        let expected = payload(index, token);
        let sent = Instant::now();
        client
            .publish(subject, &[], &expected)
            .map_err(|error| Problem::Client(error.to_string()))?;
        // Bounded: each pass consumes an operation; the caller's deadline ends the wait.
        loop {
            match client.next().await.map_err(Problem::lost)? {
                Incoming::ServerError(error) => return Err(Problem::server(&error.to_string())),
                Incoming::Message(message) if message.sid == sid => {
                    if message.payload != expected {
                        return Err(mismatch(index, &message.payload));
                    }
                    rtts.push(sent.elapsed());
                    break;
                }
                Incoming::Message(_) | Incoming::Pong | Incoming::Info => {}
            }
        }
    }
    client.unsubscribe(sid);
    Ok(())
}

/// Errors are asynchronous: a PONG proves the server has processed everything sent
/// before its PING, so an error caused by the last message has arrived by then.
async fn late_errors(client: &mut Client) -> Result<(), Problem> {
    client.ping();
    // Bounded: each pass consumes an operation; the caller's deadline ends the wait.
    loop {
        match client.next().await {
            Ok(Incoming::Pong) | Err(_) => return Ok(()),
            Ok(Incoming::ServerError(error)) => return Err(Problem::server(&error.to_string())),
            Ok(Incoming::Message(_) | Incoming::Info) => {}
        }
    }
}

pub async fn probe(
    mut client: Client,
    timeout: Duration,
    options: &CheckOptions,
) -> StepOutcome<RoundtripDetail> {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let address = client.address();
    let token = nuid::next().to_string();
    let subject = options
        .subject
        .clone()
        .unwrap_or_else(|| format!("_nats_doctor.{token}"));
    let count = options.count.max(1);
    let mut rtts: Vec<Duration> = Vec::with_capacity(count.min(1_000_000));
    let mut server_errors: Vec<String> = Vec::new();

    let exchanged = tokio::time::timeout_at(
        deadline,
        exchange(&mut client, &subject, &token, count, &mut rtts),
    )
    .await;
    let result = match exchanged {
        Err(_) => Err(Problem::Timeout),
        Ok(Err(problem)) => Err(problem),
        // A late error fails the step; a late PONG that does not come in time does not.
        Ok(Ok(())) => tokio::time::timeout_at(deadline, late_errors(&mut client))
            .await
            .unwrap_or(Ok(())),
    };
    // Closing (the UNSUB written) waits no longer than the step has left.
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    client.close(left.min(Duration::from_millis(100))).await;
    let received = rtts.len();
    if let Err(
        Problem::Permission(text) | Problem::Authorization(text) | Problem::ServerError(text),
    ) = &result
    {
        server_errors.push(text.clone());
    }

    let mut sorted = rtts.clone();
    sorted.sort();
    let percentile = |p: f64| -> Option<f64> {
        if sorted.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        let at = rank.clamp(1, sorted.len()) - 1;
        Some(super::millis(sorted[at]))
    };
    let rtt = RttStatistics {
        min: sorted.first().map(|d| super::millis(*d)),
        p50: percentile(50.0),
        p99: percentile(99.0),
        max: sorted.last().map(|d| super::millis(*d)),
    };
    let (status, summary, problem_kind) = match &result {
        Ok(()) => (
            Status::Pass,
            format!(
                "{received}/{count} messages of {PAYLOAD_BYTES} bytes back intact and in order on {subject}; RTT min {:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
                rtt.min.unwrap_or_default(),
                rtt.p50.unwrap_or_default(),
                rtt.p99.unwrap_or_default()
            ),
            None,
        ),
        Err(problem) => {
            let text = match problem {
                Problem::Permission(text) => format!("server error: {text} (the credentials may not use the test subject {subject})"),
                Problem::Authorization(text) | Problem::ServerError(text) => format!("server error: {text}"),
                Problem::Disconnected(failure) => format!("the connection was lost after {received} of {count} messages: {failure}"),
                Problem::Protocol(text) => format!("{text} (after {received} of {count} messages)"),
                Problem::Timeout => format!(
                    "{received} of {count} messages came back within {} ms on {subject}",
                    timeout.as_millis()
                ),
                Problem::Mismatch { detail, .. } => detail.clone(),
                Problem::Client(text) => format!("the client failed: {text}"),
            };
            (Status::Fail, text, Some(problem.kind()))
        }
    };
    StepOutcome {
        name: "roundtrip",
        status,
        duration: started.elapsed(),
        summary,
        detail: Detail::Found(RoundtripDetail {
            address: address.to_string(),
            subject,
            count,
            received,
            payload_bytes: PAYLOAD_BYTES,
            rtt_ms: rtt,
            problem: problem_kind,
            server_errors,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::payload;

    #[test]
    fn payloads_have_a_fixed_size_and_differ() {
        assert_eq!(payload(0, "tok").len(), super::PAYLOAD_BYTES);
        assert_ne!(payload(1, "tok"), payload(2, "tok"));
        assert_eq!(&payload(42, "tok")[12..22], b"0000000042");
    }
}
