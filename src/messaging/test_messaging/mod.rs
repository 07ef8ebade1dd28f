//! `test-messaging`: subscribe to the monitoring subjects, publish the four documented
//! sample events, and prove that each arrived exactly once on every subscription that
//! matches it, byte-identical, on the expected subject, and valid against the schema.
//!
//! Everything runs on one connection, which is what makes the verdict exact without
//! sleeping: the server handles a connection's operations in order, so the
//! subscriptions are live before the first publication, and a final round trip on a
//! private inbox returns only after every delivery (and every permission error) caused by
//! the publications has been read.

use crate::connection::ConnectionSettings;
use crate::events::{self, SampleEvent};
use crate::messaging::session::{self, Probe, SessionError};
use crate::nats::{Client, Incoming, Message};
use crate::rfc3339;
use bytes::Bytes;
use judge::judge;
use std::time::{Duration, Instant, SystemTime};

mod judge;

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

/// Whether the cases were published, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publishing {
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
    pub publishing: Publishing,
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
        match self.publishing {
            Publishing::Disabled { .. } => true,
            Publishing::NotConnected { .. } => false,
            Publishing::Ran => self.cases.iter().all(CaseReport::passed),
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
pub async fn run(connection: &ConnectionSettings, live: bool) -> Result<Report, SessionError> {
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
        publishing: Publishing::Ran,
        cases: Vec::new(),
        subscriptions: Vec::new(),
        server_errors: Vec::new(),
        foreign_messages: 0,
        elapsed: Duration::ZERO,
    };
    if !connection.settings.messaging_enabled() {
        report.publishing = Publishing::Disabled {
            value: connection.settings.enabled.value.clone(),
        };
        return Ok(finish(report, started));
    }
    let servers = session::prepare(connection)?;
    let samples =
        match events::sample_events(&prefix, &rfc3339::format_utc_millis(SystemTime::now())) {
            Ok(samples) => samples,
            Err(error) => {
                report.publishing = Publishing::NotConnected {
                    error: format!("cannot build the sample events: {error}"),
                };
                return Ok(finish(report, started));
            }
        };
    let mut session = match servers.open().await {
        Ok(session) => session,
        Err(SessionError::Connect { attempts }) => {
            report.publishing = Publishing::NotConnected {
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

#[cfg(test)]
mod tests;
