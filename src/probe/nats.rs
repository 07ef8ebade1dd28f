//! Step `nats`: the NATS handshake with every address that accepted TCP.
//!
//! First on a raw socket, to see exactly what the server says: the INFO line (all of
//! its fields, including `tls_available`/`tls_verify` which async-nats drops), or what
//! else answered — HTTP (the monitoring port), `-ERR 'attempted to connect to route
//! port'`, a TLS record (a handshake-first server), or silence. Silence is probed
//! twice: after half the time limit a `PING` is sent, because a protocol-sniffing proxy
//! (Istio, Linkerd) only forwards once the client speaks, and NATS is server-first.
//! Without TLS and with no/user/token auth, CONNECT and PING go on the same socket, so
//! each `-ERR` is seen verbatim and PING/PONG gives the RTT.
//!
//! Then async-nats connects to the same address with the real options (TLS files,
//! credentials from flags, URL or NATS_* variables), which covers TLS, nkeys and creds
//! files, and hands its client to the round trip.

use super::{Outcome, Status, Target};
use crate::connection::{Auth, Connection};
use crate::natsurl::{Host, ServerUrl};
use crate::runbook::Step;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The longest line read from a server (a large INFO with many connect_urls fits).
const MAX_LINE: usize = 64 * 1024;
/// INFO fields worth reporting (`nonce` is per connection and says nothing).
const INFO_FIELDS: &[&str] = &[
    "server_id",
    "server_name",
    "version",
    "proto",
    "go",
    "host",
    "port",
    "headers",
    "auth_required",
    "tls_required",
    "tls_verify",
    "tls_available",
    "max_payload",
    "jetstream",
    "client_id",
    "client_ip",
    "cluster",
    "domain",
    "connect_urls",
    "ldm",
];

/// A connected client for the round trip, with the events it reports (server errors
/// such as permission violations arrive this way, asynchronously).
pub struct Connected {
    pub client: async_nats::Client,
    pub events: mpsc::UnboundedReceiver<async_nats::Event>,
    pub address: SocketAddr,
}

/// Why an address failed the handshake. The names appear in JSON (`diagnosis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    NoInfo,
    ClosedWithoutInfo,
    HttpPort,
    RoutePort,
    LeafnodePort,
    TlsFirst,
    NotNats,
    AuthorizationViolation,
    AuthenticationTimeout,
    TlsRequired,
    TlsError,
    MaximumConnections,
    ServerError,
    Timeout,
    ConnectFailed,
}

impl Diagnosis {
    pub fn name(self) -> &'static str {
        match self {
            Diagnosis::NoInfo => "no_info",
            Diagnosis::ClosedWithoutInfo => "closed_without_info",
            Diagnosis::HttpPort => "http_port",
            Diagnosis::RoutePort => "route_port",
            Diagnosis::LeafnodePort => "leafnode_port",
            Diagnosis::TlsFirst => "tls_first",
            Diagnosis::NotNats => "not_nats",
            Diagnosis::AuthorizationViolation => "authorization_violation",
            Diagnosis::AuthenticationTimeout => "authentication_timeout",
            Diagnosis::TlsRequired => "tls_required",
            Diagnosis::TlsError => "tls_error",
            Diagnosis::MaximumConnections => "maximum_connections",
            Diagnosis::ServerError => "server_error",
            Diagnosis::Timeout => "timeout",
            Diagnosis::ConnectFailed => "connect_failed",
        }
    }

    fn runbook(self) -> &'static [Step] {
        match self {
            Diagnosis::HttpPort | Diagnosis::RoutePort | Diagnosis::LeafnodePort => {
                &[Step::WrongUrl]
            }
            Diagnosis::TlsFirst | Diagnosis::TlsRequired | Diagnosis::TlsError => {
                &[Step::WrongUrl, Step::Credentials]
            }
            Diagnosis::AuthorizationViolation | Diagnosis::AuthenticationTimeout => {
                &[Step::Credentials]
            }
            Diagnosis::NoInfo | Diagnosis::Timeout => {
                &[Step::NetworkPolicy, Step::ConnectionFailed]
            }
            Diagnosis::NotNats => &[Step::WrongUrl, Step::ConnectionFailed],
            Diagnosis::ClosedWithoutInfo
            | Diagnosis::MaximumConnections
            | Diagnosis::ServerError
            | Diagnosis::ConnectFailed => &[Step::ConnectionFailed],
        }
    }
}

/// Classifies an `-ERR` text; the server's capitalisation has changed over versions.
pub fn classify_error_text(text: &str) -> Diagnosis {
    let lower = text.to_lowercase();
    if lower.contains("authorization violation") {
        Diagnosis::AuthorizationViolation
    } else if lower.contains("authentication timeout") {
        Diagnosis::AuthenticationTimeout
    } else if lower.contains("secure connection - tls required") {
        Diagnosis::TlsRequired
    } else if lower.contains("maximum connections exceeded")
        || lower.contains("maximum account active connections exceeded")
    {
        Diagnosis::MaximumConnections
    } else if lower.contains("attempted to connect to route port") {
        Diagnosis::RoutePort
    } else if lower.contains("attempted to connect to leaf node port") {
        Diagnosis::LeafnodePort
    } else {
        Diagnosis::ServerError
    }
}

struct Failure {
    diagnosis: Diagnosis,
    message: String,
}

fn fail(diagnosis: Diagnosis, message: impl Into<String>) -> Failure {
    Failure {
        diagnosis,
        message: message.into(),
    }
}

/// What the first bytes from the server were.
enum FirstLine {
    Info {
        json: Map<String, Value>,
        after_nudge: bool,
    },
    Other(Failure),
}

pub async fn probe(targets: &[Target], connection: &Connection) -> (Outcome, Option<Connected>) {
    let started = Instant::now();
    let mut results = Vec::new();
    let mut kept: Option<Connected> = None;
    let mut failures: Vec<(SocketAddr, Failure)> = Vec::new();
    let mut warnings = Vec::new();
    let mut passed = 0;
    let mut first_info: Option<(SocketAddr, Map<String, Value>, Option<f64>)> = None;
    for target in targets {
        let (auth, auth_source) = connection.auth_for(&target.server);
        for address in &target.addresses {
            let attempt = Instant::now();
            let mut entry = json!({
                "address": address.to_string(),
                "auth": connection.describe_auth(&target.server),
                "auth_source": auth_source.to_string(),
            });
            let raw = raw_handshake(*address, &target.server, &auth, connection).await;
            let (info, rtt, sniffed) = match raw {
                Err(failure) => {
                    entry["result"] = json!("fail");
                    entry["diagnosis"] = json!(failure.diagnosis.name());
                    entry["error"] = json!(failure.message);
                    entry["duration_ms"] = json!(super::millis(attempt.elapsed()));
                    results.push(entry);
                    failures.push((*address, failure));
                    continue;
                }
                Ok(raw) => raw,
            };
            entry["info"] = Value::Object(info.clone());
            entry["rtt_ms"] = json!(rtt.map(super::millis));
            if sniffed {
                warnings.push(format!(
                    "{address}: INFO arrived only after the client spoke; a proxy sniffs the protocol (name the Service port tcp-… or set appProtocol: tcp)"
                ));
            }
            let connected = client_connect(*address, &target.server, connection).await;
            match connected {
                Err(failure) => {
                    entry["result"] = json!("fail");
                    entry["diagnosis"] = json!(failure.diagnosis.name());
                    entry["error"] = json!(failure.message);
                    failures.push((*address, failure));
                }
                Ok(client) => {
                    passed += 1;
                    entry["result"] = json!("pass");
                    if first_info.is_none() {
                        first_info = Some((*address, info.clone(), rtt.map(super::millis)));
                    }
                    if kept.is_none() {
                        kept = Some(client);
                    }
                }
            }
            entry["duration_ms"] = json!(super::millis(attempt.elapsed()));
            results.push(entry);
        }
    }

    let status = match (passed, failures.is_empty() && warnings.is_empty()) {
        (0, _) => Status::Fail,
        (_, false) => Status::Warn,
        (_, true) => Status::Pass,
    };
    let mut runbook = Vec::new();
    for (_, failure) in &failures {
        for step in failure.diagnosis.runbook() {
            if !runbook.contains(step) {
                runbook.push(*step);
            }
        }
    }
    if !warnings.is_empty() && !runbook.contains(&Step::NetworkPolicy) {
        runbook.push(Step::NetworkPolicy);
    }
    let mut parts = Vec::new();
    if let Some((address, info, rtt)) = &first_info {
        let text = |key: &str| {
            info.get(key)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        let flag = |key: &str| info.get(key).and_then(Value::as_bool).unwrap_or(false);
        let mut facts = vec![
            format!("nats-server {}", text("version")),
            format!("name {}", text("server_name")),
        ];
        if let Some(max) = info.get("max_payload").and_then(Value::as_u64) {
            facts.push(format!("max_payload {max}"));
        }
        facts.push(format!(
            "auth {}",
            if flag("auth_required") {
                "required"
            } else {
                "not required"
            }
        ));
        facts.push(format!(
            "TLS {}",
            if flag("tls_required") {
                "required"
            } else {
                "off"
            }
        ));
        facts.push(format!(
            "JetStream {}",
            if flag("jetstream") { "on" } else { "off" }
        ));
        if let Some(rtt) = rtt {
            facts.push(format!("PING/PONG {rtt:.3} ms"));
        }
        parts.push(format!("{address}: {}", facts.join(", ")));
    }
    for (address, failure) in &failures {
        parts.push(format!("{address}: {}", failure.message));
    }
    parts.extend(warnings.iter().cloned());
    let outcome = Outcome {
        name: "nats",
        status,
        duration: started.elapsed(),
        summary: parts.join("; "),
        detail: json!({
            "addresses": results,
            "diagnoses": failures.iter().map(|(_, f)| f.diagnosis.name()).collect::<Vec<_>>(),
        }),
        runbook,
    };
    (outcome, kept)
}

/// INFO, then CONNECT+PING and a second PING for the RTT when this can be done without
/// TLS and without signing a nonce. Returns the INFO fields, the RTT, and whether the
/// INFO came only after the client spoke.
async fn raw_handshake(
    address: SocketAddr,
    server: &ServerUrl,
    auth: &Auth,
    connection: &Connection,
) -> Result<(Map<String, Value>, Option<Duration>, bool), Failure> {
    let timeout = connection.timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stream = super::tcp::connect(address, timeout)
        .await
        .map_err(|(failure, error)| {
            fail(
                Diagnosis::ConnectFailed,
                format!("TCP: {} ({error})", failure.describe()),
            )
        })?;
    let mut buffer = Vec::new();
    let first = read_first_line(&mut stream, &mut buffer, timeout).await;
    let (info_json, after_nudge) = match first {
        FirstLine::Other(failure) => return Err(failure),
        FirstLine::Info { json, after_nudge } => (json, after_nudge),
    };
    let mut info = Map::new();
    for key in INFO_FIELDS {
        if let Some(value) = info_json.get(*key) {
            info.insert((*key).to_string(), value.clone());
        }
    }
    let server_tls = info_json
        .get("tls_required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let simple_auth = matches!(
        auth,
        Auth::None | Auth::Token(_) | Auth::UserPassword { .. }
    );
    if server_tls || connection.tls_required(server) || !simple_auth {
        // async-nats does TLS and nonce signing; the raw socket stops at INFO.
        return Ok((info, None, after_nudge));
    }
    let mut connect = json!({
        "verbose": false,
        "pedantic": false,
        "tls_required": false,
        "name": "nats-doctor",
        "lang": "rust",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": 1,
        "headers": true,
        "no_responders": true,
    });
    match auth {
        Auth::Token(token) => connect["auth_token"] = json!(token),
        Auth::UserPassword { user, password } => {
            connect["user"] = json!(user);
            connect["pass"] = json!(password);
        }
        _ => {}
    }
    let command = format!("CONNECT {connect}\r\nPING\r\n");
    let io_failure = |error: std::io::Error| {
        fail(
            Diagnosis::ConnectFailed,
            format!("the connection broke during the handshake: {error}"),
        )
    };
    tokio::time::timeout_at(deadline, stream.write_all(command.as_bytes()))
        .await
        .map_err(|_| handshake_timeout(timeout))?
        .map_err(io_failure)?;
    expect_pong(&mut stream, &mut buffer, deadline, timeout).await?;
    let ping = Instant::now();
    tokio::time::timeout_at(deadline, stream.write_all(b"PING\r\n"))
        .await
        .map_err(|_| handshake_timeout(timeout))?
        .map_err(io_failure)?;
    expect_pong(&mut stream, &mut buffer, deadline, timeout).await?;
    let rtt = ping.elapsed();
    Ok((info, Some(rtt), after_nudge))
}

fn handshake_timeout(timeout: Duration) -> Failure {
    fail(
        Diagnosis::Timeout,
        format!(
            "no PONG within {} ms after CONNECT (the server or the network stalls)",
            timeout.as_millis()
        ),
    )
}

/// Reads lines until PONG; `-ERR` ends the handshake with its diagnosis.
async fn expect_pong(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<(), Failure> {
    // Bounded: at most 16 lines (INFO updates, +OK) before the PONG.
    for _ in 0..16 {
        let line = match tokio::time::timeout_at(deadline, read_line(stream, buffer)).await {
            Err(_) => return Err(handshake_timeout(timeout)),
            Ok(Err(error)) => {
                return Err(fail(
                    Diagnosis::ConnectFailed,
                    format!("the server closed the connection during the handshake: {error}"),
                ))
            }
            Ok(Ok(line)) => line,
        };
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("PONG") {
            return Ok(());
        }
        if upper.starts_with("-ERR") {
            let text = error_text(&line);
            return Err(fail(classify_error_text(&text), format!("-ERR '{text}'")));
        }
    }
    Err(fail(
        Diagnosis::ServerError,
        "no PONG among the first lines after CONNECT",
    ))
}

/// The text of `-ERR 'text'`.
fn error_text(line: &str) -> String {
    line.trim()
        .get(4..)
        .unwrap_or_default()
        .trim()
        .trim_matches('\'')
        .to_string()
}

/// Reads one CRLF-terminated line (bytes already read stay in `buffer`).
async fn read_line(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<String> {
    // Bounded by MAX_LINE.
    loop {
        if let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            return Ok(String::from_utf8_lossy(&line).trim_end().to_string());
        }
        if buffer.len() > MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "line longer than 64 KiB",
            ));
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Waits for the server's first line: half the time limit in silence, then a `PING`
/// as a nudge, then the rest of the time limit.
async fn read_first_line(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    timeout: Duration,
) -> FirstLine {
    let started = tokio::time::Instant::now();
    let deadline = started + timeout;
    let nudge_at = started + timeout / 2;
    let mut nudged = false;
    // Bounded: two phases, each ending at a deadline.
    loop {
        let until = if nudged { deadline } else { nudge_at };
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(until, stream.read(&mut chunk)).await {
            Err(_) if !nudged => {
                nudged = true;
                // A server that is not NATS answers this (HTTP: 400); a sniffing proxy
                // now connects to the backend and INFO follows.
                let _ = stream.write_all(b"PING\r\n").await;
                continue;
            }
            Err(_) => {
                return FirstLine::Other(fail(
                    Diagnosis::NoInfo,
                    format!(
                        "TCP connected but no INFO within {} ms: not a NATS server, or a service mesh sniffs the protocol and waits for the client (NATS is server-first): name the Service port tcp-… or set appProtocol: tcp",
                        timeout.as_millis()
                    ),
                ))
            }
            Ok(Err(error)) => {
                return FirstLine::Other(fail(
                    Diagnosis::ClosedWithoutInfo,
                    format!("the connection broke before INFO: {error}"),
                ))
            }
            Ok(Ok(0)) => {
                return FirstLine::Other(if buffer.is_empty() {
                    fail(
                        Diagnosis::ClosedWithoutInfo,
                        "the server closed the connection without sending INFO",
                    )
                } else {
                    not_nats(buffer)
                })
            }
            Ok(Ok(read)) => buffer.extend_from_slice(&chunk[..read]),
        }
        if let Some(verdict) = judge_first_bytes(buffer, nudged) {
            return verdict;
        }
    }
}

/// Decides on the first bytes, or `None` while a line is still incomplete.
fn judge_first_bytes(buffer: &mut Vec<u8>, nudged: bool) -> Option<FirstLine> {
    if let Some(&first) = buffer.first() {
        // 0x15 alert, 0x16 handshake: a TLS record, from a server that expects the
        // TLS handshake before INFO (handshake_first).
        if first == 0x15 || first == 0x16 {
            return Some(FirstLine::Other(fail(
                Diagnosis::TlsFirst,
                "the server speaks TLS before INFO (handshake_first); use tls:// and the server's TLS settings",
            )));
        }
    }
    if buffer.starts_with(b"HTTP/") {
        let status_line =
            String::from_utf8_lossy(buffer.split(|b| *b == b'\n').next().unwrap_or_default())
                .trim()
                .to_string();
        return Some(FirstLine::Other(fail(
            Diagnosis::HttpPort,
            format!(
                "an HTTP server answers here ({}), not the NATS client port; the monitoring port is 8222, clients use 4222",
                sanitize(&status_line)
            ),
        )));
    }
    let end = buffer.iter().position(|b| *b == b'\n')?;
    let line: Vec<u8> = buffer.drain(..=end).collect();
    let line = String::from_utf8_lossy(&line).trim_end().to_string();
    if let Some(json) = line
        .strip_prefix("INFO ")
        .or_else(|| line.strip_prefix("info "))
    {
        return Some(
            match serde_json::from_str::<Map<String, Value>>(json.trim()) {
                Ok(json) => FirstLine::Info {
                    json,
                    after_nudge: nudged,
                },
                Err(error) => FirstLine::Other(fail(
                    Diagnosis::NotNats,
                    format!("INFO is not valid JSON: {error}"),
                )),
            },
        );
    }
    if line.to_ascii_uppercase().starts_with("-ERR") {
        let text = error_text(&line);
        let diagnosis = classify_error_text(&text);
        let hint = match diagnosis {
            Diagnosis::RoutePort => " — this is the cluster route port (6222); clients use 4222",
            Diagnosis::LeafnodePort => " — this is the leaf node port (7422); clients use 4222",
            _ => "",
        };
        return Some(FirstLine::Other(fail(
            diagnosis,
            format!("-ERR '{text}'{hint}"),
        )));
    }
    Some(FirstLine::Other(not_nats(&line.into_bytes())))
}

fn not_nats(bytes: &[u8]) -> Failure {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).to_string();
    fail(
        Diagnosis::NotNats,
        format!(
            "not a NATS server: the first bytes were {:?}",
            sanitize(&text)
        ),
    )
}

/// Printable ASCII only, so that a hostile peer cannot write to the terminal.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// async-nats, with the real options, to this one address.
async fn client_connect(
    address: SocketAddr,
    server: &ServerUrl,
    connection: &Connection,
) -> Result<Connected, Failure> {
    let options = connection
        .connect_options(server)
        .await
        .map_err(|error| fail(Diagnosis::ConnectFailed, error.to_string()))?;
    let (sender, events) = mpsc::unbounded_channel();
    let options = options.event_callback(move |event| {
        let sender = sender.clone();
        async move {
            let _ = sender.send(event);
        }
    });
    let scheme = server
        .scheme
        .effective()
        .map_or("nats", crate::natsurl::Scheme::as_str);
    // TLS verifies the certificate against the host in the URL, so a named host keeps
    // its name (resolved by getaddrinfo, as the services do); otherwise the address
    // this step is about is dialled directly.
    let tls = connection.tls_required(server);
    let url = match (&server.host, tls) {
        (Host::Name { .. }, true) => server.without_credentials(),
        _ => format!("{scheme}://{address}"),
    };
    // connection_timeout bounds each attempt; this outer limit only guards against a
    // client that never returns.
    let limit = connection.timeout + Duration::from_millis(250);
    match tokio::time::timeout(limit, options.connect(url.as_str())).await {
        Err(_) => Err(fail(
            Diagnosis::Timeout,
            format!(
                "the NATS client did not connect within {} ms",
                connection.timeout.as_millis()
            ),
        )),
        Ok(Ok(client)) => Ok(Connected {
            client,
            events,
            address,
        }),
        Ok(Err(error)) => Err(classify_connect_error(&error)),
    }
}

fn classify_connect_error(error: &async_nats::ConnectError) -> Failure {
    use async_nats::ConnectErrorKind;
    let text = crate::natsurl::mask_credentials_in_text(&error.to_string());
    let lower = text.to_lowercase();
    let diagnosis = match error.kind() {
        ConnectErrorKind::AuthorizationViolation => Diagnosis::AuthorizationViolation,
        ConnectErrorKind::Authentication => Diagnosis::AuthorizationViolation,
        ConnectErrorKind::TimedOut => Diagnosis::Timeout,
        ConnectErrorKind::Tls => Diagnosis::TlsError,
        _ if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake") =>
        {
            Diagnosis::TlsError
        }
        _ if lower.contains("expected info") => Diagnosis::NotNats,
        _ if lower.contains("-err")
            || lower.contains("violation")
            || lower.contains("exceeded") =>
        {
            classify_error_text(&text)
        }
        _ => Diagnosis::ConnectFailed,
    };
    let hint = if lower.contains("unknownissuer") {
        " — the server's certificate is not signed by a CA this client trusts: pass it with --tls-ca"
    } else if lower.contains("notvalidforname") {
        " — the server's certificate does not name this host"
    } else if lower.contains("badcertificate") || lower.contains("certificaterequired") {
        " — the server rejected the client certificate, or got none: --tls-cert/--tls-key"
    } else {
        ""
    };
    fail(diagnosis, format!("NATS client: {text}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_classified_case_insensitively() {
        assert_eq!(
            classify_error_text("Maximum Connections Exceeded"),
            Diagnosis::MaximumConnections
        );
        assert_eq!(
            classify_error_text("maximum connections exceeded"),
            Diagnosis::MaximumConnections
        );
        assert_eq!(
            classify_error_text("Authorization Violation"),
            Diagnosis::AuthorizationViolation
        );
        assert_eq!(
            classify_error_text("Secure Connection - TLS Required"),
            Diagnosis::TlsRequired
        );
        assert_eq!(
            classify_error_text("attempted to connect to route port"),
            Diagnosis::RoutePort
        );
        assert_eq!(
            error_text("-ERR 'Authorization Violation'"),
            "Authorization Violation"
        );
    }
}
