//! `test-messaging`: subscribe to the monitoring subjects, publish the four documented
//! sample events, and prove that each arrived exactly once on every subscription that
//! matches it, byte-identical, on the expected subject, and valid against the schema.
//!
//! Everything runs on one connection, which is what makes the verdict exact without
//! sleeping: the server handles a connection's operations in order, so the
//! subscriptions are live before the first publication, and a final round trip on a
//! private inbox returns only after every delivery (and every permission error) caused by
//! the publications has been read.

use crate::connection::Connection;
use crate::events::{self, SampleEvent};
use crate::messaging::session::{self, Probe, SessionError, Violation};
use crate::nats::{Client, Incoming, Message};
use crate::rfc3339;
use bytes::Bytes;
use std::time::{Duration, Instant, SystemTime};

/// Every published sample carries this header, so consumers of a live prefix can skip
/// test data.
pub const TEST_HEADER: &str = "Nats-Doctor-Test";
/// Which run published a message: tells our copies from a concurrent run's.
pub const RUN_HEADER: &str = "Nats-Doctor-Run";
/// Which case a message is: identifies it without trusting the payload.
pub const CASE_HEADER: &str = "Nats-Doctor-Case";

/// The first token of every sandbox prefix.
pub const SANDBOX_ROOT: &str = "_nats_doctor";

/// Copies of one case on one subscription kept for judging; more are only counted, so
/// that a server that floods copies cannot make the run hold them all.
const KEPT_COPIES: usize = 8;
/// Server errors kept for the report; more are only counted.
const KEPT_SERVER_ERRORS: usize = 64;

/// What went wrong with a case. The codes are permanent; validator problems keep their
/// own codes (`timestamp-invalid`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseProblem {
    pub code: &'static str,
    pub message: String,
}

impl CaseProblem {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        CaseProblem {
            code,
            message: message.into(),
        }
    }
}

/// The verdict on one sample event.
#[derive(Clone, Debug)]
pub struct CaseReport {
    pub name: &'static str,
    pub subject: String,
    /// From publishing to the first delivery.
    pub latency: Option<Duration>,
    pub problems: Vec<CaseProblem>,
}

impl CaseReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How the run ended before or after publishing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// NATS_ENABLED is not `true`: the services publish nothing, neither do we.
    Disabled { value: String },
    /// No server accepted the connection; the cases were not run.
    NotConnected { error: String },
    /// The cases ran; see `cases`.
    Ran,
}

#[derive(Clone, Debug)]
pub struct Report {
    /// The prefix the samples were published under.
    pub prefix: String,
    /// The configured prefix (equal to `prefix` with `--live`).
    pub configured_prefix: String,
    pub live: bool,
    /// The server, credentials masked.
    pub server: Option<String>,
    pub outcome: Outcome,
    pub cases: Vec<CaseReport>,
    /// The subscriptions made before publishing.
    pub subscriptions: Vec<String>,
    /// Server errors reported on the connection, as the server wrote them.
    pub server_errors: Vec<String>,
    /// Messages on the subscriptions that were not ours (live traffic, another run).
    pub foreign_messages: usize,
    pub elapsed: Duration,
}

impl Report {
    pub fn ok(&self) -> bool {
        match self.outcome {
            Outcome::Disabled { .. } => true,
            Outcome::NotConnected { .. } => false,
            Outcome::Ran => self.cases.iter().all(CaseReport::passed),
        }
    }
}

/// A delivery that carried our run header (or, in the sandbox, sat on a case subject).
struct Delivery {
    subscription: usize,
    case: usize,
    subject: String,
    payload: Bytes,
    test_header: Option<String>,
    at: Instant,
}

/// How the final round trip on the private inbox ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoundTrip {
    /// Our own message came back: the server has processed everything we sent before.
    Completed,
    /// The server refused the private subject (a permission error arrived instead).
    Refused(String),
    /// The connection failed before either.
    Lost(String),
    /// Neither within the time limit.
    TimedOut,
}

/// Runs the four cases. Only settings errors (an invalid prefix or URL, an unreadable
/// credentials file, …) are returned as errors; connection and delivery failures are
/// part of the report.
pub async fn run(connection: &Connection, live: bool) -> Result<Report, SessionError> {
    let started = Instant::now();
    let configured = connection.settings.subject_prefix.value.clone();
    let prefix = if live {
        configured.clone()
    } else {
        format!("{SANDBOX_ROOT}.{}.{configured}", nuid::next())
    };
    let mut report = Report {
        prefix: prefix.clone(),
        configured_prefix: configured.clone(),
        live,
        server: None,
        outcome: Outcome::Ran,
        cases: Vec::new(),
        subscriptions: Vec::new(),
        server_errors: Vec::new(),
        foreign_messages: 0,
        elapsed: Duration::ZERO,
    };
    if !connection.settings.messaging_enabled() {
        report.outcome = Outcome::Disabled {
            value: connection.settings.enabled.value.clone(),
        };
        return Ok(finish(report, started));
    }
    let servers = session::prepare(connection)?;
    let samples =
        match events::sample_events(&prefix, &rfc3339::format_utc_millis(SystemTime::now())) {
            Ok(samples) => samples,
            Err(error) => {
                report.outcome = Outcome::NotConnected {
                    error: format!("cannot build the sample events: {error}"),
                };
                return Ok(finish(report, started));
            }
        };
    let mut session = match servers.open().await {
        Ok(session) => session,
        Err(SessionError::Connect { attempts }) => {
            report.outcome = Outcome::NotConnected {
                error: attempts.join("; "),
            };
            return Ok(finish(report, started));
        }
        Err(other) => return Err(other),
    };
    report.server = Some(session.server.clone());
    let deadline = tokio::time::Instant::now() + connection.timeout;
    let exchange = exchange(&mut session.client, &samples, deadline).await;
    report.subscriptions = exchange.patterns.clone();
    report.foreign_messages = exchange.foreign;
    report.server_errors = exchange.server_errors.clone();
    report.cases = samples
        .iter()
        .enumerate()
        .map(|(index, sample)| judge(index, sample, &prefix, &exchange, connection.timeout))
        .collect();
    // Closing is best effort: the verdict is already complete.
    session.client.close(Duration::from_millis(500)).await;
    Ok(finish(report, started))
}

fn finish(mut report: Report, started: Instant) -> Report {
    report.elapsed = started.elapsed();
    report
}

/// What was observed on the wire.
struct Exchange {
    patterns: Vec<String>,
    /// Why a subscription could not be made, by pattern index.
    subscribe_errors: Vec<Option<String>>,
    /// Why a publication could not be sent, by case index.
    publish_errors: Vec<Option<String>>,
    published_at: Vec<Instant>,
    deliveries: Vec<Delivery>,
    /// How many copies beyond [`KEPT_COPIES`] came, by case and subscription.
    extra_copies: Vec<((usize, usize), usize)>,
    /// The server's `-ERR` texts, in order, at most [`KEPT_SERVER_ERRORS`].
    server_errors: Vec<String>,
    end: RoundTrip,
    foreign: usize,
}

async fn exchange(
    client: &mut Client,
    samples: &[SampleEvent],
    deadline: tokio::time::Instant,
) -> Exchange {
    let prefix_patterns = match samples.first() {
        Some(sample) => prefix_of(&sample.subject),
        None => String::new(),
    };
    let patterns: Vec<String> = events::monitoring_subjects(&prefix_patterns).to_vec();
    let run_id = nuid::next();
    let mut exchange = Exchange {
        patterns: patterns.clone(),
        subscribe_errors: vec![None; patterns.len()],
        publish_errors: vec![None; samples.len()],
        published_at: Vec::with_capacity(samples.len()),
        deliveries: Vec::new(),
        extra_copies: Vec::new(),
        server_errors: Vec::new(),
        end: RoundTrip::TimedOut,
        foreign: 0,
    };
    // The subscription id of each pattern.
    let mut sids: Vec<Option<u64>> = Vec::with_capacity(patterns.len());
    for (index, pattern) in patterns.iter().enumerate() {
        match client.subscribe(pattern) {
            Ok(sid) => sids.push(Some(sid)),
            Err(error) => {
                exchange.subscribe_errors[index] = Some(error.to_string());
                sids.push(None);
            }
        }
    }
    for (index, sample) in samples.iter().enumerate() {
        let headers = [
            (TEST_HEADER, "true"),
            (RUN_HEADER, run_id.as_str()),
            (CASE_HEADER, sample.name),
        ];
        exchange.published_at.push(Instant::now());
        if let Err(error) = client.publish(&sample.subject, &headers, &sample.payload) {
            exchange.publish_errors[index] = Some(error.to_string());
        }
    }
    let probe = Probe::start(client).ok();
    let waited = tokio::time::timeout_at(deadline, async {
        // Bounded: each pass consumes one operation; the deadline ends the wait.
        loop {
            match client.next().await {
                Err(failure) => break RoundTrip::Lost(failure.to_string()),
                Ok(Incoming::Message(message)) => {
                    if probe.as_ref().is_some_and(|probe| probe.is_echo(&message)) {
                        break RoundTrip::Completed;
                    }
                    match sids.iter().position(|sid| *sid == Some(message.sid)) {
                        Some(subscription) => record(
                            &mut exchange,
                            samples,
                            &run_id,
                            subscription,
                            message,
                            Instant::now(),
                        ),
                        None => exchange.foreign += 1,
                    }
                }
                Ok(Incoming::ServerError(error)) => {
                    let refusal = probe.as_ref().and_then(|probe| probe.refusal(&error.text));
                    if exchange.server_errors.len() < KEPT_SERVER_ERRORS {
                        exchange.server_errors.push(error.to_string());
                    }
                    if let Some(text) = refusal {
                        break RoundTrip::Refused(text);
                    }
                }
                Ok(Incoming::Pong | Incoming::Info) => {}
            }
        }
    })
    .await;
    exchange.end = waited.unwrap_or(RoundTrip::TimedOut);
    if let Some(probe) = probe {
        probe.finish(client);
    }
    exchange
}

/// The prefix of a sample subject: everything before `{type}.{symbol}.{period}`.
fn prefix_of(subject: &str) -> String {
    let tokens: Vec<&str> = subject.split('.').collect();
    tokens[..tokens.len().saturating_sub(3)].join(".")
}

fn record(
    exchange: &mut Exchange,
    samples: &[SampleEvent],
    run_id: &str,
    subscription: usize,
    message: Message,
    at: Instant,
) {
    let header = |name: &str| -> Option<String> {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(str::to_string)
    };
    let ours = header(RUN_HEADER).as_deref() == Some(run_id);
    let case = if ours {
        header(CASE_HEADER).and_then(|name| samples.iter().position(|s| s.name == name))
    } else {
        None
    };
    // A copy that lost its headers on the way is still ours when it sits on a case
    // subject under our private sandbox prefix, where nobody else publishes.
    let case = case.or_else(|| {
        let sandboxed = message.subject.starts_with(SANDBOX_ROOT);
        let by_subject = samples.iter().position(|s| s.subject == message.subject);
        if sandboxed && header(RUN_HEADER).is_none() {
            by_subject
        } else {
            None
        }
    });
    let Some(case) = case else {
        exchange.foreign += 1;
        return;
    };
    let kept = exchange
        .deliveries
        .iter()
        .filter(|d| d.case == case && d.subscription == subscription)
        .count();
    if kept >= KEPT_COPIES {
        let key = (case, subscription);
        match exchange.extra_copies.iter_mut().find(|(k, _)| *k == key) {
            Some((_, count)) => *count += 1,
            None => exchange.extra_copies.push((key, 1)),
        }
        return;
    }
    exchange.deliveries.push(Delivery {
        subscription,
        case,
        subject: message.subject.clone(),
        payload: message.payload.clone(),
        test_header: header(TEST_HEADER),
        at,
    });
}

/// Whether a NATS subject matches a subscription pattern (`*` one token, `>` the rest).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in pattern.split('.') {
        if token == ">" {
            return subject_tokens.next().is_some();
        }
        match subject_tokens.next() {
            Some(actual) if token == "*" || token == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

fn judge(
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
                    && subject_matches(&pattern, &sample.subject) =>
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
        if !subject_matches(pattern, &sample.subject) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(subject_matches("a.klines.*.*", "a.klines.BTCUSDT.15m"));
        assert!(subject_matches("a.klines.*.*", "a.klines.batch.15m"));
        assert!(subject_matches("a.klines.batch.*", "a.klines.batch.15m"));
        assert!(subject_matches("a.>", "a.klines.batch.15m"));
        assert!(!subject_matches("a.>", "a"));
        assert!(!subject_matches("a.klines.*", "a.klines.BTCUSDT.15m"));
        assert!(!subject_matches(
            "a.klines.*.*",
            "a.klines_gap_filling.BTCUSDT.15m"
        ));
        assert!(!subject_matches("a.klines.batch.*", "a.klines.BTCUSDT.15m"));
    }

    const PREFIX: &str = "_nats_doctor.test.binance.extraction";

    fn samples() -> Vec<SampleEvent> {
        events::sample_events(PREFIX, "2024-01-15T10:30:00.000Z").expect("samples")
    }

    /// An exchange in which every sample arrived once on each matching subscription.
    fn clean_exchange(samples: &[SampleEvent]) -> Exchange {
        let patterns = events::monitoring_subjects(PREFIX).to_vec();
        let start = Instant::now();
        let mut deliveries = Vec::new();
        for (case, sample) in samples.iter().enumerate() {
            for (subscription, pattern) in patterns.iter().enumerate() {
                if subject_matches(pattern, &sample.subject) {
                    deliveries.push(Delivery {
                        subscription,
                        case,
                        subject: sample.subject.clone(),
                        payload: Bytes::from(sample.payload.clone()),
                        test_header: Some("true".to_string()),
                        at: start + Duration::from_micros(300),
                    });
                }
            }
        }
        Exchange {
            subscribe_errors: vec![None; patterns.len()],
            patterns,
            publish_errors: vec![None; samples.len()],
            published_at: vec![start; samples.len()],
            deliveries,
            extra_copies: Vec::new(),
            server_errors: Vec::new(),
            end: RoundTrip::Completed,
            foreign: 0,
        }
    }

    fn verdicts(samples: &[SampleEvent], exchange: &Exchange) -> Vec<Vec<&'static str>> {
        samples
            .iter()
            .enumerate()
            .map(|(index, sample)| {
                judge(index, sample, PREFIX, exchange, Duration::from_secs(3))
                    .problems
                    .iter()
                    .map(|problem| problem.code)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn clean_exchange_passes_and_batch_arrives_on_two_subscriptions() {
        let samples = samples();
        let exchange = clean_exchange(&samples);
        let batch_copies = exchange.deliveries.iter().filter(|d| d.case == 1).count();
        assert_eq!(batch_copies, 2);
        assert_eq!(verdicts(&samples, &exchange), vec![Vec::<&str>::new(); 4]);
        let report = judge(0, &samples[0], PREFIX, &exchange, Duration::from_secs(3));
        assert_eq!(report.latency, Some(Duration::from_micros(300)));
    }

    #[test]
    fn lost_duplicate_corrupted_wrong_subject_header_missing() {
        let samples = samples();
        let mut exchange = clean_exchange(&samples);
        // single: lost; batch: duplicated on one subscription; error: corrupted;
        // gap filling: wrong subject and no test header.
        exchange.deliveries.retain(|d| d.case != 0);
        let copy = exchange
            .deliveries
            .iter()
            .find(|d| d.case == 1)
            .map(|d| Delivery {
                subscription: d.subscription,
                case: 1,
                subject: d.subject.clone(),
                payload: d.payload.clone(),
                test_header: d.test_header.clone(),
                at: d.at,
            })
            .expect("batch delivery");
        exchange.deliveries.push(copy);
        for delivery in exchange.deliveries.iter_mut() {
            if delivery.case == 2 {
                let mut bytes = delivery.payload.to_vec();
                bytes[10] ^= 0x20;
                delivery.payload = Bytes::from(bytes);
            }
            if delivery.case == 3 {
                delivery.subject = format!("{PREFIX}.klines_gap_filling.ETHUSDT.15m");
                delivery.test_header = None;
            }
        }
        let verdicts = verdicts(&samples, &exchange);
        assert_eq!(verdicts[0], ["lost"]);
        assert_eq!(verdicts[1], ["duplicate"]);
        assert!(verdicts[2].contains(&"corrupted"), "{:?}", verdicts[2]);
        assert!(verdicts[3].contains(&"wrong-subject"), "{:?}", verdicts[3]);
        assert!(verdicts[3].contains(&"header-missing"), "{:?}", verdicts[3]);
        // The copy on the wrong subject is also judged by the schema.
        assert!(
            verdicts[3].contains(&"subject-mismatch"),
            "{:?}",
            verdicts[3]
        );
    }

    #[test]
    fn a_flood_of_copies_is_counted_not_kept() {
        let samples = samples();
        let mut exchange = clean_exchange(&samples);
        exchange.deliveries.clear();
        let start = Instant::now();
        for _ in 0..10_000 {
            let message = Message {
                subject: samples[0].subject.clone(),
                sid: 1,
                reply: None,
                headers: None,
                payload: Bytes::from(samples[0].payload.clone()),
            };
            record(&mut exchange, &samples, "run", 0, message, start);
        }
        assert_eq!(exchange.deliveries.len(), KEPT_COPIES);
        let report = judge(0, &samples[0], PREFIX, &exchange, Duration::from_secs(3));
        let duplicate = report
            .problems
            .iter()
            .find(|problem| problem.code == "duplicate")
            .expect("a duplicate");
        assert!(
            duplicate.message.contains("received 10000 times"),
            "{}",
            duplicate.message
        );
    }

    #[test]
    fn server_errors_are_attached() {
        let samples = samples();
        let mut exchange = clean_exchange(&samples);
        exchange.deliveries.clear();
        exchange.server_errors.push(format!(
            "Permissions Violation for Publish to \"{}\"",
            samples[0].subject
        ));
        exchange.server_errors.push(format!(
            "Permissions Violation for Subscription to \"{}\"",
            exchange.patterns[1]
        ));
        let first = verdicts(&samples, &exchange);
        assert_eq!(first[0], ["publish-denied"]);
        assert_eq!(first[1], ["lost", "lost"]);
        assert_eq!(first[3], ["subscribe-denied"]);
        exchange
            .server_errors
            .push("Maximum Payload Violation".to_string());
        assert!(verdicts(&samples, &exchange)[2].contains(&"server-error"));
    }

    #[test]
    fn prefix_of_sample_subject() {
        assert_eq!(
            prefix_of("_nats_doctor.x.binance.extraction.klines.batch.15m"),
            "_nats_doctor.x.binance.extraction"
        );
    }
}
