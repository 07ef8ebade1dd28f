//! Step `roundtrip`: subscribe to a private subject (`_nats_doctor.<random>`, or
//! `--subject`), publish `--count` messages one at a time, receive each, and verify its
//! bytes and order; RTT min/p50/p99/max. Server errors (Permissions Violation on
//! publish or subscribe, Authorization Violation, Maximum Payload) come back
//! asynchronously as client events, so every wait also listens to the events and a
//! violation ends the step at once, by name, instead of as a timeout.

use super::nats::Connected;
use super::{CheckOptions, Outcome, Status};
use crate::runbook::Step;
use async_nats::{Event, ServerError};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};

/// Size of each test message.
const PAYLOAD_BYTES: usize = 64;

#[derive(Debug)]
enum Problem {
    Permission(String),
    Authorization(String),
    ServerError(String),
    Disconnected,
    Timeout,
    Mismatch { detail: String },
    Client(String),
}

impl Problem {
    fn name(&self) -> &'static str {
        match self {
            Problem::Permission(_) => "permissions_violation",
            Problem::Authorization(_) => "authorization_violation",
            Problem::ServerError(_) => "server_error",
            Problem::Disconnected => "disconnected",
            Problem::Timeout => "timeout",
            Problem::Mismatch { .. } => "mismatch",
            Problem::Client(_) => "client_error",
        }
    }

    fn runbook(&self) -> Step {
        match self {
            Problem::Permission(_) | Problem::Authorization(_) => Step::Credentials,
            _ => Step::MessagesNotReceived,
        }
    }
}

/// The message number `index` of this run: sequence number, run token, filler.
fn payload(index: usize, token: &str) -> Bytes {
    let mut text = format!("nats-doctor {index:010} {token} ");
    let filler = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut at = index;
    while text.len() < PAYLOAD_BYTES {
        text.push(char::from(filler[at % filler.len()]));
        at += 7;
    }
    text.truncate(PAYLOAD_BYTES);
    Bytes::from(text)
}

fn server_problem(event: &Event) -> Option<Problem> {
    match event {
        Event::ServerError(ServerError::AuthorizationViolation) => Some(Problem::Authorization(
            "Authorization Violation".to_string(),
        )),
        Event::ServerError(ServerError::Other(text)) => {
            let lower = text.to_lowercase();
            Some(if lower.contains("permissions violation") {
                Problem::Permission(text.clone())
            } else {
                Problem::ServerError(text.clone())
            })
        }
        Event::Disconnected | Event::Closed => Some(Problem::Disconnected),
        _ => None,
    }
}

pub async fn probe(connected: Connected, timeout: Duration, options: &CheckOptions) -> Outcome {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let Connected {
        client,
        mut events,
        address,
    } = connected;
    let token = client
        .new_inbox()
        .rsplit('.')
        .next()
        .unwrap_or("test")
        .to_string();
    let subject = options
        .subject
        .clone()
        .unwrap_or_else(|| format!("_nats_doctor.{token}"));
    let count = options.count.max(1);
    let mut rtts: Vec<Duration> = Vec::with_capacity(count.min(1_000_000));
    let mut received = 0usize;
    let mut server_errors: Vec<String> = Vec::new();

    let result: Result<(), Problem> = async {
        let mut subscriber = client
            .subscribe(subject.clone())
            .await
            .map_err(|error| Problem::Client(error.to_string()))?;
        for index in 0..count {
            let expected = payload(index, &token);
            let sent = Instant::now();
            client
                .publish(subject.clone(), expected.clone())
                .await
                .map_err(|error| Problem::Client(error.to_string()))?;
            client
                .flush()
                .await
                .map_err(|_| Problem::Disconnected)?;
            // Bounded: each pass consumes a message or an event, or ends at the deadline.
            loop {
                tokio::select! {
                    biased;
                    event = events.recv() => {
                        let Some(event) = event else { return Err(Problem::Disconnected) };
                        if let Some(problem) = server_problem(&event) {
                            return Err(problem);
                        }
                    }
                    message = subscriber.next() => {
                        let Some(message) = message else { return Err(Problem::Disconnected) };
                        if message.payload != expected {
                            let got = String::from_utf8_lossy(&message.payload);
                            let detail = match got.get(12..22).and_then(|n| n.parse::<usize>().ok()) {
                                Some(other) if other != index => format!("expected message {index}, got message {other} (order or loss)"),
                                _ => format!("message {index} arrived with different bytes ({} bytes)", message.payload.len()),
                            };
                            return Err(Problem::Mismatch { detail });
                        }
                        rtts.push(sent.elapsed());
                        received += 1;
                        break;
                    }
                    _ = tokio::time::sleep_until(deadline) => return Err(Problem::Timeout),
                }
            }
        }
        // Errors are asynchronous: collect any that came in with the last message.
        let _ = tokio::time::timeout_at(deadline, client.flush()).await;
        while let Ok(event) = events.try_recv() {
            if let Some(problem) = server_problem(&event) {
                return Err(problem);
            }
        }
        let _ = subscriber.unsubscribe().await;
        Ok(())
    }
    .await;
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
    let rtt = json!({
        "min": sorted.first().map(|d| super::millis(*d)),
        "p50": percentile(50.0),
        "p99": percentile(99.0),
        "max": sorted.last().map(|d| super::millis(*d)),
    });
    let (status, summary, runbook, problem_name) = match &result {
        Ok(()) => (
            Status::Pass,
            format!(
                "{received}/{count} messages of {PAYLOAD_BYTES} bytes back intact and in order on {subject}; RTT min {:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
                rtt["min"].as_f64().unwrap_or_default(),
                rtt["p50"].as_f64().unwrap_or_default(),
                rtt["p99"].as_f64().unwrap_or_default()
            ),
            Vec::new(),
            None,
        ),
        Err(problem) => {
            let text = match problem {
                Problem::Permission(text) => format!("server error: {text} (the credentials may not use the test subject {subject})"),
                Problem::Authorization(text) | Problem::ServerError(text) => format!("server error: {text}"),
                Problem::Disconnected => format!("the connection was lost after {received} of {count} messages"),
                Problem::Timeout => format!(
                    "{received} of {count} messages came back within {} ms on {subject}",
                    timeout.as_millis()
                ),
                Problem::Mismatch { detail, .. } => detail.clone(),
                Problem::Client(text) => format!("the client failed: {text}"),
            };
            (Status::Fail, text, vec![problem.runbook()], Some(problem.name()))
        }
    };
    Outcome {
        name: "roundtrip",
        status,
        duration: started.elapsed(),
        summary,
        detail: json!({
            "address": address.to_string(),
            "subject": subject,
            "count": count,
            "received": received,
            "payload_bytes": PAYLOAD_BYTES,
            "rtt_ms": rtt,
            "problem": problem_name,
            "server_errors": server_errors,
        }),
        runbook,
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
