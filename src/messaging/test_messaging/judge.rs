//! The verdict on one case: what arrived on each subscription that matches the case's
//! subject (lost, duplicated, corrupted, on the wrong subject, without its header,
//! invalid against the schema) and the server's refusals that explain a loss.

use super::{CaseProblem, CaseReport, Delivery, Exchange, RoundTrip, TEST_HEADER};
use crate::events::{self, SampleEvent};
use crate::messaging::session::{self, Violation};
use bytes::Bytes;
use std::time::Duration;

pub(super) fn judge(
    index: usize,
    sample: &SampleEvent,
    prefix: &str,
    exchange: &Exchange,
    timeout: Duration,
) -> CaseReport {
    let mut problems = Vec::new();
    if let Some(error) = &exchange.publish_errors[index] {
        problems.push(CaseProblem::new(
            "publish-failed",
            format!("the client could not publish: {error}"),
        ));
    }
    let mut publish_denied = false;
    let mut subscribe_denied: Vec<&str> = Vec::new();
    for text in &exchange.server_errors {
        match Violation::of(text) {
            Violation::Publish(subject) if subject == sample.subject => {
                publish_denied = true;
                problems.push(CaseProblem::new(
                    "publish-denied",
                    format!("the server refused the publication: {text}"),
                ));
            }
            Violation::Subscribe(pattern)
                if exchange.patterns.contains(&pattern)
                    && crate::subject::matches(&pattern, &sample.subject) =>
            {
                if let Some(known) = exchange.patterns.iter().find(|p| **p == pattern) {
                    subscribe_denied.push(known.as_str());
                }
                problems.push(CaseProblem::new(
                    "subscribe-denied",
                    format!("the server refused the subscription: {text}"),
                ));
            }
            Violation::Authorization | Violation::SlowConsumer | Violation::Other(_) => {
                problems.push(CaseProblem::new(
                    "server-error",
                    format!("server error: {text}"),
                ));
            }
            Violation::Publish(_) | Violation::Subscribe(_) => {}
        }
    }
    let mine: Vec<&Delivery> = exchange
        .deliveries
        .iter()
        .filter(|d| d.case == index)
        .collect();
    for (subscription, pattern) in exchange.patterns.iter().enumerate() {
        if !crate::subject::matches(pattern, &sample.subject) {
            continue;
        }
        if let Some(error) = &exchange.subscribe_errors[subscription] {
            problems.push(CaseProblem::new(
                "subscribe-failed",
                format!("could not subscribe to {pattern}: {error}"),
            ));
            continue;
        }
        let extra = exchange
            .extra_copies
            .iter()
            .find(|(key, _)| *key == (index, subscription))
            .map_or(0, |(_, count)| *count);
        let copies = mine
            .iter()
            .filter(|d| d.subscription == subscription)
            .count()
            + extra;
        match copies {
            // A refusal already says why nothing arrived.
            0 if publish_denied || subscribe_denied.contains(&pattern.as_str()) => {}
            0 => {
                let when = match &exchange.end {
                    RoundTrip::Completed => {
                        "although the server had processed everything published".to_string()
                    }
                    RoundTrip::Refused(_) => {
                        "(the server refused the final round trip)".to_string()
                    }
                    RoundTrip::Lost(failure) => format!("(the connection was lost: {failure})"),
                    RoundTrip::TimedOut => {
                        format!("within {}", session::humanize(timeout))
                    }
                };
                problems.push(CaseProblem::new(
                    "lost",
                    format!("not received on subscription {pattern} {when}"),
                ));
            }
            1 => {}
            many => problems.push(CaseProblem::new(
                "duplicate",
                format!("received {many} times on subscription {pattern}"),
            )),
        }
    }
    let mut checked_payloads: Vec<&Bytes> = Vec::new();
    for delivery in &mine {
        if delivery.subject != sample.subject {
            problems.push(CaseProblem::new(
                "wrong-subject",
                format!(
                    "arrived on {} instead of {}",
                    delivery.subject, sample.subject
                ),
            ));
        }
        if delivery.payload.as_ref() != sample.payload.as_slice() {
            let at = delivery
                .payload
                .iter()
                .zip(&sample.payload)
                .position(|(a, b)| a != b)
                .unwrap_or(delivery.payload.len().min(sample.payload.len()));
            problems.push(CaseProblem::new(
                "corrupted",
                format!(
                    "payload differs from what was published ({} bytes sent, {} received, \
                     first difference at byte {at})",
                    sample.payload.len(),
                    delivery.payload.len()
                ),
            ));
        }
        if delivery.test_header.as_deref() != Some("true") {
            problems.push(CaseProblem::new(
                "header-missing",
                format!("the `{TEST_HEADER}: true` header did not arrive"),
            ));
        }
        // Validate each distinct payload once; copies on overlapping subscriptions are
        // the same bytes.
        if !checked_payloads.contains(&&delivery.payload) {
            checked_payloads.push(&delivery.payload);
            let checked = events::validate(&delivery.subject, &delivery.payload, Some(prefix));
            for problem in checked.problems {
                problems.push(CaseProblem::new(problem.code.as_str(), problem.message));
            }
        }
    }
    problems.dedup();
    let latency = mine
        .iter()
        .map(|delivery| delivery.at)
        .min()
        .map(|first| first.saturating_duration_since(exchange.published_at[index]));
    CaseReport {
        name: sample.name,
        subject: sample.subject.clone(),
        latency,
        problems,
    }
}
