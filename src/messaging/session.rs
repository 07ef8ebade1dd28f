//! The connection of the messaging commands, opened the way a service opens one: every
//! server of the list, and every address each resolves to (getaddrinfo, as the
//! services do), tried at once under one deadline; the first that completes the
//! handshake is used. Settings that no client could use (a malformed entry, another
//! scheme, a WebSocket URL, an invalid subject prefix, unreadable credentials or TLS
//! files) are errors before anything is dialled.
//!
//! Also here: the probe, a message to a private inbox whose echo proves that the server
//! has processed everything sent before it (the server handles one connection's
//! operations in order), and the names of the server errors the commands report.

use crate::connection::{ConnectionError, ConnectionSettings, Source};
use crate::nats::connect::{Attempt, Dialer, FirstWords};
use crate::nats::wire::EncodeError;
use crate::nats::{Client, Message};
use crate::natsurl::{self, Entry, Host, Scheme, SchemeSpec};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

#[derive(Debug, Error)]
pub enum SessionError {
    /// A setting no client could use: exit 2.
    #[error("{0}")]
    Settings(String),
    #[error(transparent)]
    Files(#[from] ConnectionError),
    /// Every server was tried; `attempts` names each (masked) with its failure.
    #[error("cannot connect: {}", attempts.join("; "))]
    Connect { attempts: Vec<String> },
}

impl SessionError {
    /// Whether the settings are at fault (exit 2) rather than the network (exit 1).
    pub fn is_settings(&self) -> bool {
        matches!(self, SessionError::Settings(_) | SessionError::Files(_))
    }
}

/// The servers of the list, ready to dial.
pub struct Servers {
    dialers: Vec<Dialer>,
    timeout: Duration,
}

/// Checks the settings and reads the credentials and TLS files.
pub fn prepare(connection: &ConnectionSettings) -> Result<Servers, SessionError> {
    let url = &connection.settings.url;
    let name = match url.source {
        Source::Flag => "--url",
        _ => crate::settings::URL_VARIABLE,
    };
    let prefix = &connection.settings.subject_prefix.value;
    if let Some(reason) = crate::subject::prefix_problem(prefix) {
        return Err(SessionError::Settings(format!(
            "{} {prefix:?} {reason}",
            crate::settings::PREFIX_VARIABLE
        )));
    }
    let tls = Arc::new(connection.tls_config()?);
    let mut dialers = Vec::new();
    for (index, entry) in natsurl::parse_server_list(&url.value)
        .into_iter()
        .enumerate()
    {
        let server = match entry {
            Entry::Server(server) => server,
            Entry::Invalid { offset, error } => {
                let masked = natsurl::mask_credentials(&url.value);
                return Err(SessionError::Settings(format!(
                    "{name} {masked:?}: entry {} (at byte {offset}): {error}",
                    index + 1
                )));
            }
        };
        let problem = match (&server.scheme, server.port.number()) {
            (SchemeSpec::Unsupported(scheme), _) => Some(format!(
                "the scheme `{scheme}` is not one NATS clients accept (nats://, tls://)"
            )),
            (SchemeSpec::Known(Scheme::Ws | Scheme::Wss), _) => Some(
                "nats-doctor speaks the NATS protocol over TCP, not WebSocket: use the client port (nats://…:4222)".to_string(),
            ),
            (_, None) => Some("the port is not a number".to_string()),
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(SessionError::Settings(format!(
                "{name} entry {} ({}): {problem}",
                index + 1,
                server.masked()
            )));
        }
        dialers.push(connection.dialer(&server, &tls)?);
    }
    Ok(Servers {
        dialers,
        timeout: connection.timeout,
    })
}

/// A connection, and the server it goes to.
pub struct Session {
    pub client: Client,
    /// The server URL, credentials masked.
    pub server: String,
}

impl Servers {
    /// Connects to the first server that completes the handshake, trying all at once
    /// within `--timeout`.
    pub async fn open(&self) -> Result<Session, SessionError> {
        let deadline = Instant::now() + self.timeout;
        let mut attempts: FuturesUnordered<_> = self
            .dialers
            .iter()
            .enumerate()
            .map(|(index, dialer)| async move {
                (index, open_server(dialer, deadline, self.timeout).await)
            })
            .collect();
        let mut failures: Vec<(usize, String)> = Vec::new();
        // Bounded: one item per server.
        while let Some((index, result)) = attempts.next().await {
            match result {
                Ok(client) => {
                    return Ok(Session {
                        client,
                        server: self.dialers[index].server.masked(),
                    })
                }
                Err(failure) => failures.push((index, failure)),
            }
        }
        failures.sort_by_key(|(index, _)| *index);
        Err(SessionError::Connect {
            attempts: failures
                .into_iter()
                .map(|(index, failure)| {
                    format!("{}: {failure}", self.dialers[index].server.masked())
                })
                .collect(),
        })
    }
}

/// Resolves one server and races its addresses; the first handshake wins.
async fn open_server(
    dialer: &Dialer,
    deadline: Instant,
    limit: Duration,
) -> Result<Client, String> {
    let port = dialer.server.port.number().unwrap_or(natsurl::DEFAULT_PORT);
    let addresses: Vec<SocketAddr> = match &dialer.server.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Host::Name { name, .. } => {
            match tokio::time::timeout_at(deadline, tokio::net::lookup_host((name.as_str(), port)))
                .await
            {
                Err(_) => {
                    return Err(format!(
                        "{name} did not resolve within {} ms",
                        limit.as_millis()
                    ))
                }
                Ok(Err(error)) => return Err(format!("{name} does not resolve: {error}")),
                Ok(Ok(found)) => {
                    let mut addresses: Vec<SocketAddr> = Vec::new();
                    for address in found {
                        if !addresses.contains(&address) {
                            addresses.push(address);
                        }
                    }
                    addresses
                }
            }
        }
    };
    let single = addresses.len() == 1;
    let attempt = Attempt {
        deadline,
        limit,
        first_words: FirstWords::Wait,
    };
    let mut attempts: FuturesUnordered<_> = addresses
        .iter()
        .enumerate()
        .map(|(index, address)| async move { (index, dialer.connect(*address, attempt).await) })
        .collect();
    let mut failures: Vec<(usize, String)> = Vec::new();
    // Bounded: one item per address.
    while let Some((index, result)) = attempts.next().await {
        match result {
            Ok(client) => return Ok(client),
            Err(error) if single => failures.push((index, error.to_string())),
            Err(error) => failures.push((index, format!("{}: {error}", addresses[index]))),
        }
    }
    if failures.is_empty() {
        return Err("resolves to no address".to_string());
    }
    failures.sort_by_key(|(index, _)| *index);
    Err(failures
        .into_iter()
        .map(|(_, failure)| failure)
        .collect::<Vec<_>>()
        .join("; "))
}

/// A server error the commands name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    Publish(String),
    Subscribe(String),
    Authorization,
    SlowConsumer,
    Other(String),
}

impl Violation {
    /// Names an `-ERR` text. The server writes `Permissions Violation for Publish to
    /// "subject"`; some versions and proxies change the case, so compare without it.
    pub fn of(text: &str) -> Violation {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("permissions violation for publish to") {
            Violation::Publish(first_quoted(text).unwrap_or_default())
        } else if lower.starts_with("permissions violation for subscription to") {
            Violation::Subscribe(first_quoted(text).unwrap_or_default())
        } else if lower.contains("authorization violation") {
            Violation::Authorization
        } else if lower.contains("slow consumer") {
            Violation::SlowConsumer
        } else {
            Violation::Other(text.to_string())
        }
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
    sid: u64,
}

impl Probe {
    /// Subscribes to a fresh inbox and publishes one empty message to it (queued).
    pub fn start(client: &mut Client) -> Result<Probe, EncodeError> {
        let inbox = format!("_INBOX.{}", nuid::next());
        let sid = client.subscribe(&inbox)?;
        client.publish(&inbox, &[], b"")?;
        Ok(Probe { inbox, sid })
    }

    /// Whether `message` is the echo.
    pub fn is_echo(&self, message: &Message) -> bool {
        message.sid == self.sid
    }

    /// The server's refusal of the probe, if the error text is one.
    pub fn refusal(&self, text: &str) -> Option<String> {
        match Violation::of(text) {
            Violation::Publish(subject) | Violation::Subscribe(subject)
                if subject == self.inbox =>
            {
                Some(text.to_string())
            }
            _ => None,
        }
    }

    /// Whether an error text is about the probe's inbox rather than the command's
    /// subjects.
    pub fn is_about(&self, text: &str) -> bool {
        self.refusal(text).is_some()
    }

    pub fn finish(self, client: &mut Client) {
        client.unsubscribe(self.sid);
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
        assert_eq!(
            Violation::of(
                "Permissions Violation for Publish to \"binance.extraction.klines.BTCUSDT.15m\""
            ),
            Violation::Publish("binance.extraction.klines.BTCUSDT.15m".to_string())
        );
        assert_eq!(
            Violation::of("permissions violation for subscription to \"a.>\" using queue \"q\""),
            Violation::Subscribe("a.>".to_string())
        );
        assert_eq!(
            Violation::of("Authorization Violation"),
            Violation::Authorization
        );
        assert_eq!(Violation::of("Slow Consumer"), Violation::SlowConsumer);
        assert_eq!(
            Violation::of("Maximum Payload Violation"),
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
