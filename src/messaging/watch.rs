//! `watch`: subscribe to `{prefix}.>` (or a given subject), validate every message with
//! the event schema, hand each verdict to a sink (one per output format, in
//! `crate::report`), and count them for the summary.
//!
//! Built for bursts: messages that are already queued are processed in a batch before
//! the loop looks at signals and timers again, the subscription buffer is large enough
//! to absorb a burst while output is written, and slow-consumer notices from the client
//! or the server are counted, never ignored.

use crate::connection::Connection;
use crate::events::{self, Checked, ProblemCode};
use crate::messaging::session::{self, SessionError, Violation};
use async_nats::{ClientError, Event, Message};
use futures_util::{FutureExt, StreamExt};
use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant, SystemTime};

/// Messages the client buffers for the subscription before it drops them and reports a
/// slow consumer. async-nats defaults to 65,536; a larger buffer rides out a burst while
/// a slow terminal catches up, at a few hundred bytes per buffered event.
pub const SUBSCRIPTION_CAPACITY: usize = 1 << 18;

/// Messages processed between two looks at signals and timers.
const BATCH: usize = 4096;

/// One received message and its verdict.
pub struct Observed<'a> {
    pub subject: &'a str,
    pub received_at: SystemTime,
    pub payload: &'a [u8],
    pub checked: &'a Checked,
}

/// Where verdicts go: one implementation per output format.
pub trait WatchSink {
    /// The subscription is live.
    fn started(&mut self, subject: &str, server: &str) -> io::Result<()>;
    fn message(&mut self, observed: &Observed<'_>) -> io::Result<()>;
    /// Nothing more is queued right now: make what was written visible.
    fn idle(&mut self) -> io::Result<()>;
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
}

#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// A subject or wildcard; `{prefix}.>` when absent.
    pub subject: Option<String>,
    /// Stop after this many messages.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

/// Why the watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Count,
    Duration,
    Interrupted,
    /// The subscription ended: the connection closed or the server removed it.
    ConnectionLost,
    /// Standard output was closed (`| head`).
    OutputClosed,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub subject: String,
    pub received: u64,
    pub valid: u64,
    pub invalid: u64,
    /// Invalid messages by problem code; a message counts once per code it has.
    pub by_problem: BTreeMap<ProblemCode, u64>,
    /// From the moment the subscription was live to the end.
    pub elapsed: Duration,
    pub end: End,
    /// Slow-consumer notices: the client or the server dropped messages for us.
    pub slow_consumer: u64,
    /// Other server errors and disconnections, as reported.
    pub connection_errors: Vec<String>,
}

impl Summary {
    /// Messages per second over the watch.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.received as f64 / seconds
        } else {
            0.0
        }
    }

    /// Whether the watch saw only valid messages and lost none.
    pub fn ok(&self) -> bool {
        self.invalid == 0
            && self.slow_consumer == 0
            && self.connection_errors.is_empty()
            && self.end != End::ConnectionLost
    }
}

/// Why the watch could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("cannot subscribe to {subject}: {message}")]
    Subscribe { subject: String, message: String },
    #[error("the server refused the subscription to {subject}: {message}")]
    SubscribeDenied { subject: String, message: String },
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

/// Watches until `options` or a signal says stop. `stop` resolves on Ctrl-C/SIGTERM.
pub async fn run(
    connection: &Connection,
    options: &WatchOptions,
    sink: &mut dyn WatchSink,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Summary, WatchError> {
    let prefix = connection.settings.subject_prefix.value.clone();
    let subject = options
        .subject
        .clone()
        .unwrap_or_else(|| format!("{prefix}.>"));
    let mut session = session::open(connection, |connect| {
        connect.subscription_capacity(SUBSCRIPTION_CAPACITY)
    })
    .await?;
    let subscribed = tokio::time::timeout(
        connection.timeout,
        session.client.subscribe(subject.clone()),
    )
    .await;
    let mut subscriber = match subscribed {
        Ok(Ok(subscriber)) => subscriber,
        Ok(Err(error)) => {
            return Err(WatchError::Subscribe {
                subject,
                message: error.to_string(),
            })
        }
        Err(_) => {
            return Err(WatchError::Subscribe {
                subject,
                message: format!("no answer within {}", session::humanize(connection.timeout)),
            })
        }
    };
    let mut summary = Summary {
        subject: subject.clone(),
        received: 0,
        valid: 0,
        invalid: 0,
        by_problem: BTreeMap::new(),
        elapsed: Duration::ZERO,
        end: End::Interrupted,
        slow_consumer: 0,
        connection_errors: Vec::new(),
    };
    // Announce only once the server has the subscription, so that whoever waits for the
    // announcement (a benchmark, a test) cannot publish too early.
    let mut early_events = Vec::new();
    session::round_trip(&mut session, connection.timeout, &mut early_events).await;
    for event in &early_events {
        if let Event::ServerError(error) = event {
            if let session::Violation::Subscribe(denied) = Violation::of(error) {
                if denied == subject {
                    return Err(WatchError::SubscribeDenied {
                        subject,
                        message: session::server_error_text(error),
                    });
                }
            }
        }
        note_event(&mut summary, event, &subject);
    }
    sink.started(&subject, &session.server)?;
    let started = Instant::now();
    let validation_prefix = Some(prefix.as_str());
    let deadline = options
        .duration
        .map(|duration| tokio::time::Instant::now() + duration);
    let sleep = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    tokio::pin!(stop);
    let end = 'watch: loop {
        if options.count.is_some_and(|count| summary.received >= count) {
            break End::Count;
        }
        tokio::select! {
            biased;
            () = &mut stop => break End::Interrupted,
            () = &mut sleep => break End::Duration,
            event = session.events.recv() => {
                if let Some(event) = event {
                    note_event(&mut summary, &event, &subject);
                    // The client gave up reconnecting; the subscription will stay
                    // silent, so waiting any longer would only hide the loss.
                    if matches!(
                        event,
                        Event::Closed | Event::ClientError(ClientError::MaxReconnects)
                    ) {
                        break End::ConnectionLost;
                    }
                }
            }
            message = subscriber.next() => {
                let Some(message) = message else {
                    break End::ConnectionLost;
                };
                let mut next = Some(message);
                let mut handled = 0;
                while let Some(message) = next.take() {
                    if let Err(error) = observe(&mut summary, sink, &message, validation_prefix) {
                        if error.kind() == io::ErrorKind::BrokenPipe {
                            break 'watch End::OutputClosed;
                        }
                        return Err(error.into());
                    }
                    handled += 1;
                    if options.count.is_some_and(|count| summary.received >= count) {
                        break;
                    }
                    if handled < BATCH {
                        next = subscriber.next().now_or_never().flatten();
                    }
                }
                if next.is_none() && handled < BATCH {
                    if let Err(error) = sink.idle() {
                        if error.kind() == io::ErrorKind::BrokenPipe {
                            break 'watch End::OutputClosed;
                        }
                        return Err(error.into());
                    }
                }
            }
        }
    };
    summary.elapsed = started.elapsed();
    summary.end = end;
    // Notices that arrived while the last batch was processed still count.
    let mut late_events = Vec::new();
    session::collect_queued_events(&mut session, &mut late_events).await;
    for event in &late_events {
        note_event(&mut summary, event, &subject);
    }
    let _ = subscriber.unsubscribe().await;
    let _ = tokio::time::timeout(Duration::from_millis(500), session.client.drain()).await;
    if end != End::OutputClosed {
        sink.summary(&summary)?;
    }
    Ok(summary)
}

fn observe(
    summary: &mut Summary,
    sink: &mut dyn WatchSink,
    message: &Message,
    prefix: Option<&str>,
) -> io::Result<()> {
    let received_at = SystemTime::now();
    let checked = events::validate(message.subject.as_str(), &message.payload, prefix);
    summary.received += 1;
    if checked.is_valid() {
        summary.valid += 1;
    } else {
        summary.invalid += 1;
        let mut codes: Vec<ProblemCode> = checked.problems.iter().map(|p| p.code).collect();
        codes.sort();
        codes.dedup();
        for code in codes {
            *summary.by_problem.entry(code).or_insert(0) += 1;
        }
    }
    sink.message(&Observed {
        subject: message.subject.as_str(),
        received_at,
        payload: &message.payload,
        checked: &checked,
    })
}

fn note_event(summary: &mut Summary, event: &Event, subject: &str) {
    match event {
        Event::SlowConsumer(_) | Event::ServerError(async_nats::ServerError::SlowConsumer(_)) => {
            summary.slow_consumer += 1;
        }
        Event::ServerError(error) => {
            let text = session::server_error_text(error);
            // Our own probe inbox may be outside the user's permissions; that says
            // nothing about the events.
            let about_probe = matches!(
                Violation::of(error),
                Violation::Publish(ref s) | Violation::Subscribe(ref s) if s != subject
            );
            if !about_probe && !summary.connection_errors.contains(&text) {
                summary.connection_errors.push(text);
            }
        }
        Event::Disconnected => summary
            .connection_errors
            .push("disconnected from the server".to_string()),
        Event::ClientError(error) => {
            let text = error.to_string();
            summary
                .connection_errors
                .push(text.trim_start_matches("nats: ").to_string());
        }
        Event::Connected | Event::LameDuckMode | Event::Draining | Event::Closed => {}
    }
}
