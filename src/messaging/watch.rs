//! `watch`: subscribe to `{prefix}.>` (or a given subject), validate every message with
//! the event schema, hand each verdict to a sink (one per output format, in
//! `crate::report`), and count them for the summary.
//!
//! Built for bursts: messages that are already read are processed in a batch before the
//! loop looks at signals and timers again, and output is flushed only when nothing more
//! is buffered. There is no queue between the socket and the validator: a watch that
//! falls behind leaves the backlog in the kernel's and the server's buffers, and the
//! server cuts off a client that stays behind (a slow consumer), which the watch then
//! sees as a lost connection.
//!
//! A connection that has been silent for `--timeout` gets a PING; when nothing at all
//! comes back within another `--timeout`, it counts as lost (a server or a network path
//! that vanished without closing the connection). A busy connection is never pinged:
//! its messages prove it alive.
//!
//! A lost connection is not the end: like the consumers it replaces, the watch
//! reconnects (every configured server, with a growing pause between attempts, within
//! `--reconnect-window`), subscribes again, and reports both events. Core NATS does not
//! replay what was published while no subscription existed, so the summary counts the
//! disconnections and how long they lasted, and the exit code is 1.

use crate::connection::ConnectionSettings;
use crate::events::{self, Checked, ProblemCode};
use crate::messaging::session::{self, Probe, Session, SessionError, Violation};
use crate::messaging::test_messaging::SANDBOX_ROOT;
use crate::nats::{Failure, Incoming, Message};
use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant, SystemTime};

/// Messages processed between two looks at signals and timers.
const BATCH: usize = 4096;
/// The pause before the first reconnection attempt, doubled after each failure up to
/// the maximum.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);
/// How long the watch tries to reconnect when `--reconnect-window` is not given.
pub const DEFAULT_RECONNECT_WINDOW: Duration = Duration::from_secs(120);

/// One received message and its verdict.
pub struct Observed<'a> {
    pub subject: &'a str,
    pub received_at: SystemTime,
    pub payload: &'a [u8],
    pub checked: &'a Checked,
}

/// A lost connection, as reported.
pub struct Disconnection<'a> {
    pub server: &'a str,
    pub reason: &'a Failure,
    /// How long reconnection is tried.
    pub window: Duration,
}

/// A connection regained, as reported.
pub struct Reconnection<'a> {
    pub server: &'a str,
    pub subject: &'a str,
    pub attempts: u32,
    /// From the loss to the renewed subscription.
    pub after: Duration,
}

/// Where verdicts go: one implementation per output format.
pub trait WatchSink {
    /// The subscription is live.
    fn started(&mut self, subject: &str, server: &str) -> io::Result<()>;
    fn message(&mut self, observed: &Observed<'_>) -> io::Result<()>;
    /// Nothing more is buffered right now: make what was written visible.
    fn idle(&mut self) -> io::Result<()>;
    fn disconnected(&mut self, disconnection: &Disconnection<'_>) -> io::Result<()>;
    fn reconnected(&mut self, reconnection: &Reconnection<'_>) -> io::Result<()>;
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
    /// Whether standard output's reader has gone away (`| head`): the watch ends then,
    /// without a summary.
    fn closed(&self) -> bool;
}

#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// A subject or wildcard; `{prefix}.>` when absent.
    pub subject: Option<String>,
    /// Follow test-messaging's sandbox runs: `_nats_doctor.*.{prefix}.>`, each message
    /// validated against its run's sandbox prefix. Not with `subject`.
    pub sandbox: bool,
    /// Stop after this many messages.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// How long to try to reconnect after the connection is lost.
    pub reconnect_window: Duration,
}

/// The prefix a message's subject is validated against.
#[derive(Clone, Copy, Debug)]
enum Layout<'a> {
    /// The configured prefix: `{prefix}.{type}.{symbol|batch}.{period}`.
    Prefix(&'a str),
    /// A sandbox run of test-messaging, whichever run it is:
    /// `_nats_doctor.<run>.{prefix}.{type}.{symbol|batch}.{period}`.
    Sandbox(&'a str),
}

impl<'a> Layout<'a> {
    /// The prefix of `subject`: the configured one, or the sandbox prefix of the run
    /// that published it (the configured one when the subject is not under a run's).
    fn of<'s>(self, subject: &'s str) -> &'s str
    where
        'a: 's,
    {
        match self {
            Layout::Prefix(prefix) => prefix,
            Layout::Sandbox(prefix) => {
                let sandboxed = subject
                    .strip_prefix(SANDBOX_ROOT)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .and_then(|rest| rest.split_once('.'))
                    .filter(|(run, rest)| {
                        !run.is_empty()
                            && rest.starts_with(prefix)
                            && rest.as_bytes().get(prefix.len()) == Some(&b'.')
                    });
                match sandboxed {
                    Some((run, _)) => {
                        &subject[..SANDBOX_ROOT.len() + 1 + run.len() + 1 + prefix.len()]
                    }
                    None => prefix,
                }
            }
        }
    }
}

/// Why the watch ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Count,
    Duration,
    Interrupted,
    /// The connection was lost and not regained for good within the reconnect window;
    /// `regained` attempts connected and then failed again.
    ConnectionLost {
        window: Duration,
        attempts: u32,
        regained: u32,
    },
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
    /// Slow-consumer notices from the server.
    pub slow_consumer: u64,
    /// Times the connection was lost.
    pub disconnections: u64,
    /// Time without a subscription, over all disconnections (to the end of the watch
    /// when the last one was not repaired).
    pub disconnected_for: Duration,
    /// Other server errors and the reasons connections were lost, as reported (the
    /// first distinct ones).
    pub connection_errors: Vec<String>,
    /// Distinct errors beyond those kept.
    pub more_errors: u64,
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

    /// Whether the watch saw only valid messages and can have missed none.
    pub fn ok(&self) -> bool {
        self.invalid == 0
            && self.slow_consumer == 0
            && self.disconnections == 0
            && self.connection_errors.is_empty()
            && !matches!(self.end, End::ConnectionLost { .. })
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
    /// Standard output's reader went away.
    #[error("standard output was closed")]
    OutputClosed,
}

impl WatchError {
    /// Whether the settings are at fault (exit 2).
    pub fn is_settings(&self) -> bool {
        match self {
            WatchError::Session(error) => error.is_settings(),
            WatchError::Subscribe { .. } => true,
            WatchError::SubscribeDenied { .. }
            | WatchError::Output(_)
            | WatchError::OutputClosed => false,
        }
    }
}

/// A live subscription: its id, and a message that arrived on it while the
/// subscription was being confirmed.
struct Subscribed {
    sid: u64,
    first: Option<Message>,
}

/// Subscribes and waits until the subscription is certainly registered: the probe's
/// echo (or its refusal) comes back, or a message arrives on the subscription itself.
/// A refusal of the subscription is an error; other server errors are noted.
async fn subscribe(
    session: &mut Session,
    subject: &str,
    timeout: Duration,
    summary: &mut Summary,
) -> Result<Subscribed, WatchError> {
    let client = &mut session.client;
    let sid = client
        .subscribe(subject)
        .map_err(|error| WatchError::Subscribe {
            subject: subject.to_string(),
            message: error.to_string(),
        })?;
    let probe = Probe::start(client).map_err(|error| WatchError::Subscribe {
        subject: subject.to_string(),
        message: error.to_string(),
    })?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut first = None;
    let confirmed = tokio::time::timeout_at(deadline, async {
        // Bounded: each pass consumes one operation; the deadline ends the wait.
        loop {
            match client.next().await {
                Err(failure) => return Err(Unconfirmed::Lost(failure)),
                Ok(Incoming::Message(message)) if message.sid == sid => {
                    first = Some(message);
                    return Ok(());
                }
                Ok(Incoming::Message(message)) if probe.is_echo(&message) => return Ok(()),
                Ok(Incoming::ServerError(error)) => {
                    if Violation::of(&error.text) == Violation::Subscribe(subject.to_string()) {
                        return Err(Unconfirmed::Denied(error.text));
                    }
                    note_server_error(summary, &error.to_string(), subject);
                    if probe.is_about(&error.text) {
                        return Ok(());
                    }
                }
                Ok(_) => {}
            }
        }
    })
    .await;
    match confirmed {
        Ok(Ok(())) => {}
        // A server that answers nothing for a whole time limit is not one to watch on.
        Err(_) => {
            return Err(WatchError::Session(SessionError::Connect {
                attempts: vec![format!(
                    "{}: the server did not confirm the subscription within {}",
                    session.server,
                    session::humanize(timeout)
                )],
            }))
        }
        Ok(Err(Unconfirmed::Denied(message))) => {
            return Err(WatchError::SubscribeDenied {
                subject: subject.to_string(),
                message,
            })
        }
        Ok(Err(Unconfirmed::Lost(failure))) => {
            return Err(WatchError::Session(SessionError::Connect {
                attempts: vec![format!("{}: {failure}", session.server)],
            }))
        }
    }
    probe.finish(&mut session.client);
    Ok(Subscribed { sid, first })
}

/// Why a subscription was not confirmed.
enum Unconfirmed {
    Denied(String),
    Lost(Failure),
}

/// Losing the connection until it has been regained for good (see [`stable_after`]).
struct Outage {
    /// Reconnection is tried until then.
    window_end: tokio::time::Instant,
    /// The pause before the next attempt.
    pause: Duration,
    attempts: u32,
    /// Attempts that connected (and then lost the connection again).
    regained: u32,
}

impl Outage {
    fn end(&self, window: Duration) -> End {
        End::ConnectionLost {
            window,
            attempts: self.attempts,
            regained: self.regained,
        }
    }
}

/// How long a regained connection must stay up before its next loss counts as a new
/// outage, with a new window: the window itself, at most 30 s. A server that accepts
/// and then fails again and again gets no more than one window of attempts, paced by
/// the growing pause.
fn stable_after(options: &WatchOptions) -> Duration {
    options.reconnect_window.min(Duration::from_secs(30))
}

/// How a connected stretch of the watch ended.
enum Stretch {
    Ended(End),
    Lost(Failure),
}

/// Watches until `options` or a signal says stop. `stop` resolves on Ctrl-C/SIGTERM.
pub async fn run(
    connection: &ConnectionSettings,
    options: &WatchOptions,
    sink: &mut dyn WatchSink,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Summary, WatchError> {
    let prefix = connection.settings.subject_prefix.value.clone();
    let servers = session::prepare(connection)?;
    let subject = match (&options.subject, options.sandbox) {
        (Some(subject), _) => subject.clone(),
        (None, true) => format!("{SANDBOX_ROOT}.*.{prefix}.>"),
        (None, false) => format!("{prefix}.>"),
    };
    crate::nats::wire::check_subject(&subject).map_err(|error| WatchError::Subscribe {
        subject: subject.clone(),
        message: error.to_string(),
    })?;
    let mut session = servers.open().await?;
    let mut summary = Summary {
        subject: subject.clone(),
        received: 0,
        valid: 0,
        invalid: 0,
        by_problem: BTreeMap::new(),
        elapsed: Duration::ZERO,
        end: End::Interrupted,
        slow_consumer: 0,
        disconnections: 0,
        disconnected_for: Duration::ZERO,
        connection_errors: Vec::new(),
        more_errors: 0,
    };
    // Announce only once the server has the subscription, so that whoever waits for the
    // announcement (a benchmark, a test) cannot publish too early.
    let mut subscribed =
        subscribe(&mut session, &subject, connection.timeout, &mut summary).await?;
    let announced = sink.started(&subject, &session.server);
    written(sink, announced)?;
    let started = Instant::now();
    let validation_prefix = if options.sandbox {
        Layout::Sandbox(&prefix)
    } else {
        Layout::Prefix(&prefix)
    };
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
    // Since when the watch has been without a subscription, while it is.
    let mut lost_since: Option<Instant> = None;
    let mut outage: Option<Outage> = None;
    let mut connected_at = Instant::now();
    let end = 'watch: loop {
        let stretch = watch_connected(
            &mut session,
            &mut subscribed,
            options,
            connection.timeout,
            &mut summary,
            sink,
            validation_prefix,
            &mut sleep,
            &mut stop,
        )
        .await?;
        let lost = match stretch {
            Stretch::Ended(end) => break end,
            Stretch::Lost(failure) => failure,
        };
        let lost_at = Instant::now();
        lost_since = Some(lost_at);
        summary.disconnections += 1;
        note_error(&mut summary, &format!("connection lost: {lost}"));
        let now = tokio::time::Instant::now();
        // A connection that stayed up starts a new outage; one that failed soon after it
        // was regained is the same outage going on, with its window and its pauses.
        let fresh = outage.is_none() || connected_at.elapsed() >= stable_after(options);
        if fresh {
            outage = Some(Outage {
                window_end: now + options.reconnect_window,
                pause: FIRST_PAUSE,
                attempts: 0,
                regained: 0,
            });
        }
        let Some(current) = outage.as_mut() else {
            break End::Interrupted;
        };
        let reported = sink.disconnected(&Disconnection {
            server: &session.server,
            reason: &lost,
            window: current.window_end.saturating_duration_since(now),
        });
        written(sink, reported)?;
        if !fresh {
            if now >= current.window_end {
                break current.end(options.reconnect_window);
            }
            let resume = (now + current.pause).min(current.window_end);
            tokio::select! {
                biased;
                () = &mut stop => break 'watch End::Interrupted,
                () = &mut sleep => break 'watch End::Duration,
                () = tokio::time::sleep_until(resume) => {}
            }
            current.pause = (current.pause * 2).min(LONGEST_PAUSE);
        }
        // Bounded: attempts are at least FIRST_PAUSE apart until the window ends (the
        // last one is made when it ends).
        loop {
            current.attempts += 1;
            let attempt = async {
                let mut renewed = servers.open().await?;
                let subscribed =
                    subscribe(&mut renewed, &subject, connection.timeout, &mut summary).await?;
                Ok::<_, WatchError>((renewed, subscribed))
            };
            let result = tokio::select! {
                biased;
                () = &mut stop => break 'watch End::Interrupted,
                () = &mut sleep => break 'watch End::Duration,
                result = attempt => result,
            };
            match result {
                Ok((renewed, renewed_subscription)) => {
                    session = renewed;
                    subscribed = renewed_subscription;
                    current.regained += 1;
                    connected_at = Instant::now();
                    let after = lost_at.elapsed();
                    summary.disconnected_for += after;
                    lost_since = None;
                    let reported = sink.reconnected(&Reconnection {
                        server: &session.server,
                        subject: &subject,
                        attempts: current.attempts,
                        after,
                    });
                    written(sink, reported)?;
                    continue 'watch;
                }
                Err(error @ WatchError::SubscribeDenied { .. }) => {
                    note_error(&mut summary, &error.to_string());
                    break 'watch current.end(options.reconnect_window);
                }
                Err(error @ (WatchError::Output(_) | WatchError::OutputClosed)) => {
                    return Err(error)
                }
                Err(_) => {}
            }
            let now = tokio::time::Instant::now();
            if now >= current.window_end {
                break 'watch current.end(options.reconnect_window);
            }
            let resume = (now + current.pause).min(current.window_end);
            tokio::select! {
                biased;
                () = &mut stop => break 'watch End::Interrupted,
                () = &mut sleep => break 'watch End::Duration,
                () = tokio::time::sleep_until(resume) => {}
            }
            current.pause = (current.pause * 2).min(LONGEST_PAUSE);
        }
    };
    // A watch that ends while disconnected was without a subscription until now.
    if let Some(lost) = lost_since {
        summary.disconnected_for += lost.elapsed();
    }
    summary.elapsed = started.elapsed();
    summary.end = end.clone();
    session.client.close(Duration::from_millis(500)).await;
    if end != End::OutputClosed {
        let summarised = sink.summary(&summary);
        written(sink, summarised)?;
    }
    Ok(summary)
}

/// Watches on one connection until the watch ends or the connection is lost.
#[allow(clippy::too_many_arguments)]
async fn watch_connected(
    session: &mut Session,
    subscribed: &mut Subscribed,
    options: &WatchOptions,
    timeout: Duration,
    summary: &mut Summary,
    sink: &mut dyn WatchSink,
    prefix: Layout<'_>,
    sleep: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    stop: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Result<Stretch, WatchError> {
    let client = &mut session.client;
    let sid = subscribed.sid;
    let subject = summary.subject.clone();
    let mut pending = subscribed.first.take();
    // When the server was last heard from, and whether a PING has gone out since.
    let mut heard_at = tokio::time::Instant::now();
    let mut pinged = false;
    // Bounded: each pass handles a batch, a timer, a signal, or ends the stretch.
    loop {
        if options.count.is_some_and(|count| summary.received >= count) {
            return Ok(Stretch::Ended(End::Count));
        }
        let incoming = match pending.take() {
            Some(message) => Ok(Incoming::Message(message)),
            None => tokio::select! {
                biased;
                () = stop.as_mut() => return Ok(Stretch::Ended(End::Interrupted)),
                () = sleep.as_mut() => return Ok(Stretch::Ended(End::Duration)),
                () = tokio::time::sleep_until(heard_at + timeout) => {
                    if pinged {
                        return Ok(Stretch::Lost(Failure::new(
                            crate::nats::FailureKind::TimedOut,
                            format!(
                                "the server did not answer a PING within {}",
                                session::humanize(timeout)
                            ),
                        )));
                    }
                    client.ping();
                    pinged = true;
                    heard_at = tokio::time::Instant::now();
                    continue;
                }
                incoming = client.next() => incoming,
            },
        };
        heard_at = tokio::time::Instant::now();
        pinged = false;
        let mut next = match incoming {
            Err(failure) => return Ok(Stretch::Lost(failure)),
            Ok(incoming) => Some(incoming),
        };
        let mut handled = 0;
        // Bounded: at most BATCH operations, all already read.
        while let Some(incoming) = next.take() {
            match incoming {
                Incoming::Message(message) if message.sid == sid => {
                    if let Err(error) = observe(summary, sink, &message, prefix) {
                        if sink.closed() {
                            return Ok(Stretch::Ended(End::OutputClosed));
                        }
                        return Err(error.into());
                    }
                    handled += 1;
                    if options.count.is_some_and(|count| summary.received >= count) {
                        break;
                    }
                }
                Incoming::ServerError(error) => {
                    note_server_error(summary, &error.to_string(), &subject)
                }
                Incoming::Message(_) | Incoming::Pong | Incoming::Info => {}
            }
            if handled < BATCH {
                match client.try_next() {
                    Ok(more) => next = more,
                    Err(failure) => return Ok(Stretch::Lost(failure)),
                }
            }
        }
        if next.is_none() && handled < BATCH {
            if let Err(error) = sink.idle() {
                if sink.closed() {
                    return Ok(Stretch::Ended(End::OutputClosed));
                }
                return Err(error.into());
            }
        }
    }
}

/// A sink's write: an error, or the end of the watch when the reader went away.
fn written(sink: &dyn WatchSink, result: io::Result<()>) -> Result<(), WatchError> {
    match result {
        Ok(()) => Ok(()),
        Err(_) if sink.closed() => Err(WatchError::OutputClosed),
        Err(error) => Err(WatchError::Output(error)),
    }
}

fn observe(
    summary: &mut Summary,
    sink: &mut dyn WatchSink,
    message: &Message,
    prefix: Layout<'_>,
) -> io::Result<()> {
    let received_at = SystemTime::now();
    let checked = events::validate(
        &message.subject,
        &message.payload,
        Some(prefix.of(&message.subject)),
    );
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
        subject: &message.subject,
        received_at,
        payload: &message.payload,
        checked: &checked,
    })
}

/// Distinct errors kept for the summary; more are only counted.
const KEPT_ERRORS: usize = 32;

fn note_error(summary: &mut Summary, text: &str) {
    if summary.connection_errors.iter().any(|known| known == text) {
        return;
    }
    if summary.connection_errors.len() < KEPT_ERRORS {
        summary.connection_errors.push(text.to_string());
    } else {
        summary.more_errors += 1;
    }
}

fn note_server_error(summary: &mut Summary, text: &str, subject: &str) {
    match Violation::of(text) {
        Violation::SlowConsumer => summary.slow_consumer += 1,
        // Our own probe inbox may be outside the user's permissions; that says nothing
        // about the events.
        Violation::Publish(ref denied) | Violation::Subscribe(ref denied) if denied != subject => {}
        _ => note_error(summary, text),
    }
}

#[cfg(test)]
mod tests;
