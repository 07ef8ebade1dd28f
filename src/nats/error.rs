//! The one classification of connection failures. `check`'s nats and roundtrip steps,
//! `test-messaging` and `watch` all describe a failure with these kinds and texts, so
//! that a refused port reads "connection refused (nothing listens there)" wherever it
//! shows, and a server error is named the same way by every command.

use super::text;
use super::wire::{ProtocolError, ServerInfo};
use std::fmt;
use std::io;
use std::time::Duration;
use tokio_rustls::rustls;

/// What kind of failure it was: the basis of every diagnosis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Nothing listens on the port (or no endpoint behind a Service).
    Refused,
    /// No answer within the time limit.
    TimedOut,
    /// No route to the address.
    Unreachable,
    /// The peer reset the connection.
    Reset,
    /// TCP connected, then the peer closed without a word.
    ClosedWithoutInfo,
    /// TCP connected, and nothing came within the time limit.
    NoInfo,
    /// An HTTP server answered: the monitoring port.
    HttpPort,
    /// `-ERR 'attempted to connect to route port'`.
    RoutePort,
    /// `-ERR 'attempted to connect to leaf node port'`.
    LeafnodePort,
    /// A TLS record before INFO: a server that wants the TLS handshake first.
    TlsFirst,
    /// Something answered that is not a NATS server.
    NotNats,
    /// The TLS handshake or a TLS record failed.
    Tls,
    /// `-ERR 'Secure Connection - TLS Required'`.
    TlsRequired,
    /// `-ERR 'Authorization Violation'` (wrong or missing credentials).
    Authorization,
    /// `-ERR 'Authentication Timeout'`.
    AuthenticationTimeout,
    /// `-ERR 'maximum connections exceeded'`.
    MaximumConnections,
    /// Any other `-ERR`.
    ServerError,
    /// The server closed a connection that had been established.
    Closed,
    /// The server broke the protocol (a malformed or oversized operation).
    Protocol,
    /// The credentials or TLS files could not be used.
    Settings,
    Other,
}

/// A failure: its kind and the words that describe it, as any output may show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// An I/O error of an established or establishing connection.
    pub fn io(error: &io::Error) -> Failure {
        if let Some(tls) = tls_error(error) {
            return tls_failure(tls);
        }
        let kind = io_kind(error);
        let message = match kind {
            FailureKind::Refused => "connection refused (nothing listens there)".to_string(),
            FailureKind::TimedOut => "timed out (packets dropped on the way)".to_string(),
            FailureKind::Unreachable => "unreachable (no route to the address)".to_string(),
            FailureKind::Reset => "connection reset".to_string(),
            FailureKind::Closed => "the server closed the connection".to_string(),
            _ => format!("failed: {error}"),
        };
        Failure::new(kind, message)
    }

    /// Nothing within `limit` while waiting for `what`.
    pub fn timed_out(what: &str, limit: Duration) -> Failure {
        Failure::new(
            FailureKind::TimedOut,
            format!("no {what} within {} ms", limit.as_millis()),
        )
    }

    /// The server closed the connection; `when` (may be empty) says at what point.
    pub fn closed(when: &str) -> Failure {
        let message = if when.is_empty() {
            "the server closed the connection".to_string()
        } else {
            format!("the server closed the connection {when}")
        };
        Failure::new(FailureKind::Closed, message)
    }

    /// An `-ERR` from the server, named.
    pub fn server(text: &str) -> Failure {
        let message = if text.is_empty() {
            "-ERR without a text".to_string()
        } else {
            format!("-ERR '{text}'")
        };
        Failure::new(classify_error_text(text), message)
    }

    /// The credentials or TLS files, or a URL this client cannot dial.
    pub fn settings(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Settings, message)
    }

    /// Whether the server refused the credentials (the runbook's credentials step).
    pub fn is_authorization(&self) -> bool {
        matches!(
            self.kind,
            FailureKind::Authorization | FailureKind::AuthenticationTimeout
        )
    }
}

impl From<ProtocolError> for Failure {
    fn from(error: ProtocolError) -> Failure {
        Failure::new(FailureKind::Protocol, error.to_string())
    }
}

/// The kind of an I/O error (the TCP failures as the tcp step names them).
pub fn io_kind(error: &io::Error) -> FailureKind {
    use io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => FailureKind::Refused,
        ErrorKind::TimedOut => FailureKind::TimedOut,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => FailureKind::Unreachable,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => FailureKind::Reset,
        ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe => FailureKind::Closed,
        _ => match error.raw_os_error() {
            // EHOSTUNREACH, ENETUNREACH on Linux.
            Some(113 | 101) => FailureKind::Unreachable,
            _ => FailureKind::Other,
        },
    }
}

/// Classifies an `-ERR` text; the server's capitalisation has changed over versions.
pub fn classify_error_text(text: &str) -> FailureKind {
    let lower = text.to_lowercase();
    if lower.contains("authorization violation") {
        FailureKind::Authorization
    } else if lower.contains("authentication timeout") {
        FailureKind::AuthenticationTimeout
    } else if lower.contains("secure connection - tls required") {
        FailureKind::TlsRequired
    } else if lower.contains("maximum connections exceeded")
        || lower.contains("maximum account active connections exceeded")
    {
        FailureKind::MaximumConnections
    } else if lower.contains("attempted to connect to route port") {
        FailureKind::RoutePort
    } else if lower.contains("attempted to connect to leaf node port") {
        FailureKind::LeafnodePort
    } else {
        FailureKind::ServerError
    }
}

/// The rustls error inside an I/O error, if it is one.
fn tls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A TLS failure with what to do about it.
pub fn tls_failure(error: &rustls::Error) -> Failure {
    use rustls::{AlertDescription, CertificateError, Error};
    let hint = match error {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            " — the server's certificate is not signed by a CA this client trusts: pass it with --tls-ca"
        }
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => " — the server's certificate does not name this host",
        Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => " — the server's certificate has expired",
        Error::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::CertificateRequired
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown,
        ) => " — the server rejected the client certificate, or got none: --tls-cert/--tls-key",
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } => {
            " — the server does not speak TLS here"
        }
        _ => "",
    };
    Failure::new(
        FailureKind::Tls,
        format!("TLS: {}{hint}", text::cap(&error.to_string(), 256)),
    )
}

/// A failed connection attempt, with what the server had said by then.
#[derive(Clone, Debug)]
pub struct ConnectError {
    pub failure: Failure,
    /// The server's INFO, when it came before the failure.
    pub info: Option<Box<ServerInfo>>,
    /// INFO came only after the client had spoken (a protocol-sniffing proxy).
    pub info_after_nudge: bool,
}

impl ConnectError {
    pub fn kind(&self) -> FailureKind {
        self.failure.kind
    }
}

impl From<Failure> for ConnectError {
    fn from(failure: Failure) -> Self {
        ConnectError {
            failure,
            info: None,
            info_after_nudge: false,
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt(f)
    }
}

impl std::error::Error for ConnectError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_classified_case_insensitively() {
        assert_eq!(
            classify_error_text("Maximum Connections Exceeded"),
            FailureKind::MaximumConnections
        );
        assert_eq!(
            classify_error_text("maximum connections exceeded"),
            FailureKind::MaximumConnections
        );
        assert_eq!(
            classify_error_text("Authorization Violation"),
            FailureKind::Authorization
        );
        assert_eq!(
            classify_error_text("Secure Connection - TLS Required"),
            FailureKind::TlsRequired
        );
        assert_eq!(
            classify_error_text("attempted to connect to route port"),
            FailureKind::RoutePort
        );
        assert_eq!(
            classify_error_text("Permissions Violation for Publish to \"a\""),
            FailureKind::ServerError
        );
    }

    #[test]
    fn io_errors_read_the_same_in_every_command() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(
            Failure::io(&refused).to_string(),
            "connection refused (nothing listens there)"
        );
        assert_eq!(Failure::io(&refused).kind, FailureKind::Refused);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(Failure::io(&reset).kind, FailureKind::Reset);
        let unreachable = io::Error::from_raw_os_error(113);
        assert_eq!(Failure::io(&unreachable).kind, FailureKind::Unreachable);
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let failure = Failure::io(&tls);
        assert_eq!(failure.kind, FailureKind::Tls);
        assert!(failure.message.contains("--tls-ca"), "{failure}");
    }
}
