//! One NATS connection for the messaging commands, with the server's asynchronous
//! errors (permission violations, slow consumer notices) forwarded into a channel the
//! command reads in its own loop, and a round trip that proves the server has processed
//! everything sent before it.

use crate::connection::{Connection, ConnectionError};
use crate::natsurl::{self, Entry};
use async_nats::{Client, ConnectOptions, Event, ServerError};
use bytes::Bytes;
use futures_util::StreamExt;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::mpsc;

#[derive(Debug, Error)]
pub enum SessionError {
    #[error("NATS_URL {masked:?} has no usable server entry")]
    NoServer { masked: String },
    #[error(transparent)]
    Settings(#[from] ConnectionError),
    /// Every server was tried; `attempts` names each (masked) with its error.
    #[error("cannot connect: {}", attempts.join("; "))]
    Connect { attempts: Vec<String> },
}

/// A connected client and the events of its connection.
pub struct Session {
    pub client: Client,
    pub events: mpsc::UnboundedReceiver<Event>,
    /// The server URL, credentials masked.
    pub server: String,
}

/// Connects to the first configured server that accepts us, in the configured order.
/// `tune` adjusts the shared connect options for the command (capacity, reconnects).
pub async fn open(
    connection: &Connection,
    tune: impl Fn(ConnectOptions) -> ConnectOptions,
) -> Result<Session, SessionError> {
    let mut attempts = Vec::new();
    let mut any_server = false;
    for entry in connection.settings.servers() {
        let Entry::Server(server) = entry else {
            continue;
        };
        any_server = true;
        let (sender, events) = mpsc::unbounded_channel();
        let shared = connection.connect_options(&server).await?;
        let options = tune(shared).event_callback(move |event| {
            // The receiver is gone only when the command has finished with the events.
            let _ = sender.send(event);
            async {}
        });
        // The connect options carry the per-address timeout; this outer bound only makes
        // sure a host with many addresses cannot keep us waiting without limit.
        let outer = connection.timeout.saturating_mul(4);
        let result =
            tokio::time::timeout(outer, options.connect(server.without_credentials())).await;
        match result {
            Ok(Ok(client)) => {
                return Ok(Session {
                    client,
                    events,
                    server: server.masked(),
                })
            }
            Ok(Err(error)) => attempts.push(format!(
                "{}: {}",
                server.masked(),
                natsurl::mask_credentials_in_text(&error.to_string())
            )),
            Err(_) => attempts.push(format!(
                "{}: no connection within {}",
                server.masked(),
                humanize(outer)
            )),
        }
    }
    if !any_server {
        return Err(SessionError::NoServer {
            masked: natsurl::mask_credentials(&connection.settings.url.value),
        });
    }
    Err(SessionError::Connect { attempts })
}

/// How a round trip ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoundTrip {
    /// Our own message came back: the server has processed everything we sent before.
    Completed,
    /// The server refused the private subject (a permission error arrived instead).
    Refused(String),
    /// Neither within the time limit.
    TimedOut,
}

/// A server error the commands name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    Publish(String),
    Subscribe(String),
    Authorization,
    Other(String),
}

impl Violation {
    pub fn of(error: &ServerError) -> Violation {
        match error {
            ServerError::AuthorizationViolation => Violation::Authorization,
            ServerError::SlowConsumer(sid) => {
                Violation::Other(format!("slow consumer on subscription {sid}"))
            }
            ServerError::Other(text) => {
                // The server writes `Permissions Violation for Publish to "subject"`;
                // some clients lower-case it, so compare without case.
                let lower = text.to_ascii_lowercase();
                if lower.starts_with("permissions violation for publish to") {
                    Violation::Publish(first_quoted(text).unwrap_or_default())
                } else if lower.starts_with("permissions violation for subscription to") {
                    Violation::Subscribe(first_quoted(text).unwrap_or_default())
                } else {
                    Violation::Other(text.clone())
                }
            }
        }
    }
}

/// The server's words, without the client's `nats: ` decoration.
pub fn server_error_text(error: &ServerError) -> String {
    match error {
        ServerError::AuthorizationViolation => "Authorization Violation".to_string(),
        ServerError::SlowConsumer(sid) => format!("Slow Consumer (subscription {sid})"),
        ServerError::Other(text) => text.clone(),
    }
}

fn first_quoted(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let length = text[start..].find('"')?;
    Some(text[start..start + length].to_string())
}

/// A message to ourselves on a private inbox. Because the server handles one
/// connection's operations in order and delivers to it in order, its echo proves that
/// all earlier subscriptions are registered and all earlier publications (and their
/// errors) have been processed. A permission error for the inbox proves the same.
pub struct Probe {
    inbox: String,
    pub subscriber: async_nats::Subscriber,
}

impl Probe {
    /// Subscribes to a fresh inbox and publishes one empty message to it.
    pub async fn start(client: &Client, deadline: tokio::time::Instant) -> Option<Probe> {
        let inbox = client.new_inbox();
        let subscriber = tokio::time::timeout_at(deadline, client.subscribe(inbox.clone()))
            .await
            .ok()?
            .ok()?;
        tokio::time::timeout_at(deadline, async {
            client.publish(inbox.clone(), Bytes::new()).await.ok();
            client.flush().await.ok();
        })
        .await
        .ok()?;
        Some(Probe { inbox, subscriber })
    }

    /// The server's refusal of the probe, if `event` is one.
    pub fn refusal(&self, event: &Event) -> Option<String> {
        match event {
            Event::ServerError(error) => match Violation::of(error) {
                Violation::Publish(subject) | Violation::Subscribe(subject)
                    if subject == self.inbox =>
                {
                    Some(server_error_text(error))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// Runs a probe to completion, collecting every connection event in `seen`.
pub async fn round_trip(
    session: &mut Session,
    limit: Duration,
    seen: &mut Vec<Event>,
) -> RoundTrip {
    let deadline = tokio::time::Instant::now() + limit;
    let Some(mut probe) = Probe::start(&session.client, deadline).await else {
        return RoundTrip::TimedOut;
    };
    let outcome = loop {
        tokio::select! {
            biased;
            event = session.events.recv() => match event {
                Some(event) => {
                    let refused = probe.refusal(&event);
                    seen.push(event);
                    if let Some(text) = refused {
                        break RoundTrip::Refused(text);
                    }
                }
                None => break RoundTrip::TimedOut,
            },
            message = probe.subscriber.next() => match message {
                Some(_) => break RoundTrip::Completed,
                None => break RoundTrip::TimedOut,
            },
            () = tokio::time::sleep_until(deadline) => break RoundTrip::TimedOut,
        }
    };
    probe.subscriber.unsubscribe().await.ok();
    collect_queued_events(session, seen).await;
    outcome
}

/// Events the connection queued before the probe echo are handed to the callback task in
/// order; give that task the chance to forward them, then take what arrived.
pub async fn collect_queued_events(session: &mut Session, seen: &mut Vec<Event>) {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
    while let Ok(event) = session.events.try_recv() {
        seen.push(event);
    }
}

/// `1.5s`, `250ms`: how durations appear in messages.
pub fn humanize(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) {
        let seconds = duration.as_secs_f64();
        if seconds.fract() == 0.0 {
            format!("{}s", duration.as_secs())
        } else {
            format!("{seconds:.1}s")
        }
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_permission_violations() {
        let publish = ServerError::Other(
            "Permissions Violation for Publish to \"binance.extraction.klines.BTCUSDT.15m\""
                .to_string(),
        );
        assert_eq!(
            Violation::of(&publish),
            Violation::Publish("binance.extraction.klines.BTCUSDT.15m".to_string())
        );
        let subscribe = ServerError::Other(
            "permissions violation for subscription to \"a.>\" using queue \"q\"".to_string(),
        );
        assert_eq!(
            Violation::of(&subscribe),
            Violation::Subscribe("a.>".to_string())
        );
        assert_eq!(
            Violation::of(&ServerError::AuthorizationViolation),
            Violation::Authorization
        );
        assert_eq!(
            Violation::of(&ServerError::Other("Maximum Payload Violation".to_string())),
            Violation::Other("Maximum Payload Violation".to_string())
        );
    }

    #[test]
    fn humanizes_durations() {
        assert_eq!(humanize(Duration::from_secs(3)), "3s");
        assert_eq!(humanize(Duration::from_millis(1500)), "1.5s");
        assert_eq!(humanize(Duration::from_millis(250)), "250ms");
    }
}
