//! Opening a connection to one address: TCP, the server's first bytes, INFO, TLS when
//! either side asks for it, CONNECT with the credentials, then PING until PONG, all
//! under one deadline. What the server sends first is judged before it is parsed, so
//! that the ports and peers that are not a NATS client port are named: the HTTP
//! monitoring port, the route and leaf node ports (their `-ERR`), a server that wants
//! the TLS handshake first, something else entirely, or silence.
//!
//! NATS is server-first: clients wait for INFO. `check` may ask for a nudge: after half
//! the time in silence a `PING` is sent, because a protocol-sniffing proxy (Istio,
//! Linkerd) connects to the backend only once the client speaks. An INFO that comes
//! only then is reported as such; the services would never have seen it.

use super::auth::Secret;
use super::client::{Client, Handshake};
use super::error::{ConnectError, Failure, FailureKind};
use super::text;
use super::tls::{self, TlsConfig};
use super::transport::{self, Stream};
use super::wire::{self, Parser, ProtocolError, ServerInfo, ServerOp};
use crate::natsurl::ServerUrl;
use bytes::BytesMut;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Operations accepted between CONNECT and the PONG (+OK, INFO updates, PINGs).
const HANDSHAKE_OPERATIONS: usize = 16;

/// How an attempt waits for the server's first words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstWords {
    /// Wait in silence, as every NATS client does.
    Wait,
    /// Speak after half the time (see the module documentation).
    Nudge,
}

/// One attempt's time: its deadline, and the limit it stands for in messages.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    pub deadline: Instant,
    pub limit: Duration,
    pub first_words: FirstWords,
}

/// How to reach one server of the list: its credentials and TLS settings.
#[derive(Clone, Debug)]
pub struct Dialer {
    pub server: ServerUrl,
    secret: Secret,
    tls: Arc<TlsConfig>,
    /// A `tls://` URL or TLS files on the command line: TLS even if the server does
    /// not require it.
    tls_wanted: bool,
}

impl Dialer {
    pub fn new(server: ServerUrl, secret: Secret, tls: Arc<TlsConfig>, tls_wanted: bool) -> Dialer {
        Dialer {
            server,
            secret,
            tls,
            tls_wanted,
        }
    }

    /// Connects to `address` (one of the server's addresses) within the attempt's
    /// deadline.
    pub async fn connect(
        &self,
        address: SocketAddr,
        attempt: Attempt,
    ) -> Result<Client, ConnectError> {
        let tcp = transport::connect_tcp(address, attempt.deadline).await?;
        let mut state = Opening {
            parser: Parser::default(),
            input: BytesMut::with_capacity(4096),
            info_after_nudge: false,
        };
        let (tcp, info) = state.first_words(tcp, attempt).await?;
        let fail = |failure: Failure, state: &Opening, info: &ServerInfo| ConnectError {
            failure,
            info: Some(Box::new(info.clone())),
            info_after_nudge: state.info_after_nudge,
        };
        state.parser.configure(&info);
        let server_requires_tls = info.flag("tls_required");
        let mut stream = if server_requires_tls || self.tls_wanted {
            if !server_requires_tls && !info.flag("tls_available") {
                return Err(fail(
                    Failure::new(
                        FailureKind::Tls,
                        "TLS: the client wants TLS (a tls:// URL or --tls-* files) but this server offers none (its INFO has neither tls_required nor tls_available)",
                    ),
                    &state,
                    &info,
                ));
            }
            // The server sends nothing more before the handshake.
            state.input.clear();
            match tls::handshake(tcp, &self.server.host, &self.tls, attempt.deadline).await {
                Ok(stream) => Stream::Tls(Box::new(stream)),
                Err(failure) => return Err(fail(failure, &state, &info)),
            }
        } else {
            Stream::Plain(tcp)
        };
        let tls = stream.is_tls();
        let mut fields = json!({
            "verbose": false,
            "pedantic": false,
            "tls_required": tls,
            "name": "nats-doctor",
            "lang": "rust",
            "version": env!("CARGO_PKG_VERSION"),
            "protocol": 1,
            "echo": true,
            "headers": true,
            "no_responders": true,
        });
        if let Value::Object(map) = &mut fields {
            self.secret.add_to(map, info.text("nonce"));
        }
        let mut output = BytesMut::new();
        wire::connect(&mut output, &fields);
        wire::ping(&mut output);
        let mut info = info;
        if let Err(failure) =
            exchange_until_pong(&mut stream, &mut state, &mut output, &mut info, attempt).await
        {
            return Err(fail(failure, &state, &info));
        }
        let handshake = Handshake {
            info,
            info_after_nudge: state.info_after_nudge,
            tls,
        };
        Ok(Client::new(
            stream,
            state.input,
            state.parser,
            handshake,
            address,
        ))
    }
}

/// A connection without credentials or TLS to `address` within `limit`: for the
/// benchmark publisher and the tests, which talk to their own loopback servers.
pub async fn connect_plain(address: SocketAddr, limit: Duration) -> Result<Client, ConnectError> {
    let server = ServerUrl {
        offset: 0,
        scheme: crate::natsurl::SchemeSpec::Known(crate::natsurl::Scheme::Nats),
        credentials: None,
        host: crate::natsurl::Host::Ip(address.ip()),
        port: crate::natsurl::Port::Explicit(address.port()),
    };
    let tls = TlsConfig::load(&super::tls::TlsFiles::default())
        .map_err(|error| Failure::settings(error.to_string()))?;
    let dialer = Dialer::new(server, Secret::None, Arc::new(tls), false);
    let attempt = Attempt {
        deadline: Instant::now() + limit,
        limit,
        first_words: FirstWords::Wait,
    };
    dialer.connect(address, attempt).await
}

/// The read side of a connection that is being opened.
struct Opening {
    parser: Parser,
    input: BytesMut,
    info_after_nudge: bool,
}

impl Opening {
    /// Waits for the server's first line and judges it.
    async fn first_words(
        &mut self,
        mut tcp: TcpStream,
        attempt: Attempt,
    ) -> Result<(TcpStream, ServerInfo), ConnectError> {
        let started = Instant::now();
        let nudge_at = started + attempt.deadline.saturating_duration_since(started) / 2;
        let mut nudged = attempt.first_words == FirstWords::Wait;
        // Bounded: every pass reads into a bounded buffer, or ends at a deadline.
        loop {
            if let Some(failure) = judge_first_bytes(&self.input) {
                return Err(failure.into());
            }
            match self.parser.parse(&mut self.input) {
                Ok(Some(ServerOp::Info(info))) => {
                    self.info_after_nudge = nudged && attempt.first_words == FirstWords::Nudge;
                    return Ok((tcp, *info));
                }
                Ok(Some(ServerOp::Err(error))) => return Err(first_error(&error.text).into()),
                Ok(Some(_)) => {
                    return Err(Failure::new(
                        FailureKind::NotNats,
                        "not a NATS server: its first line was not INFO",
                    )
                    .into())
                }
                Ok(None) => {}
                Err(ProtocolError::Unknown { .. }) => return Err(not_nats(&self.input).into()),
                Err(error) => return Err(Failure::from(error).into()),
            }
            let until = if nudged { attempt.deadline } else { nudge_at };
            self.input.reserve(4096);
            match tokio::time::timeout_at(until, tcp.read_buf(&mut self.input)).await {
                Err(_) if !nudged => {
                    nudged = true;
                    // A server that is not NATS answers this (HTTP: 400); a sniffing
                    // proxy now connects to the backend and INFO follows.
                    let _ = tokio::time::timeout_at(attempt.deadline, tcp.write_all(b"PING\r\n"))
                        .await;
                }
                Err(_) => {
                    return Err(Failure::new(
                        FailureKind::NoInfo,
                        format!(
                            "TCP connected but no INFO within {} ms: not a NATS server, or a service mesh sniffs the protocol and waits for the client (NATS is server-first): name the Service port tcp-… or set appProtocol: tcp",
                            attempt.limit.as_millis()
                        ),
                    )
                    .into())
                }
                Ok(Err(error)) => {
                    return Err(Failure::new(
                        FailureKind::ClosedWithoutInfo,
                        format!(
                            "the connection broke before INFO: {}",
                            Failure::io(&error)
                        ),
                    )
                    .into())
                }
                Ok(Ok(0)) => {
                    return Err(if self.input.is_empty() {
                        Failure::new(
                            FailureKind::ClosedWithoutInfo,
                            "the server closed the connection without sending INFO",
                        )
                    } else {
                        not_nats(&self.input)
                    }
                    .into())
                }
                Ok(Ok(_)) => {}
            }
        }
    }
}

/// Writes CONNECT and PING, then reads until the PONG that proves the server accepted
/// them. `-ERR` ends the handshake with its diagnosis.
async fn exchange_until_pong(
    stream: &mut Stream,
    state: &mut Opening,
    output: &mut BytesMut,
    info: &mut ServerInfo,
    attempt: Attempt,
) -> Result<(), Failure> {
    let stall = || {
        Failure::new(
            FailureKind::TimedOut,
            format!(
                "no PONG within {} ms after CONNECT (the server or the network stalls)",
                attempt.limit.as_millis()
            ),
        )
    };
    for _ in 0..HANDSHAKE_OPERATIONS {
        if !output.is_empty() {
            match tokio::time::timeout_at(attempt.deadline, stream.write_all(output)).await {
                Err(_) => return Err(stall()),
                Ok(Err(error)) => return Err(Failure::io(&error)),
                Ok(Ok(())) => output.clear(),
            }
            match tokio::time::timeout_at(attempt.deadline, stream.flush()).await {
                Err(_) => return Err(stall()),
                Ok(Err(error)) => return Err(Failure::io(&error)),
                Ok(Ok(())) => {}
            }
        }
        let op = loop {
            if let Some(op) = state.parser.parse(&mut state.input)? {
                break op;
            }
            state.input.reserve(4096);
            match tokio::time::timeout_at(attempt.deadline, stream.read_buf(&mut state.input)).await
            {
                Err(_) => return Err(stall()),
                Ok(Err(error)) => {
                    let failure = Failure::io(&error);
                    return Err(match failure.kind {
                        FailureKind::Tls => failure,
                        _ => Failure::new(
                            failure.kind,
                            format!("the connection broke during the handshake: {failure}"),
                        ),
                    });
                }
                Ok(Ok(0)) => return Err(Failure::closed("during the handshake")),
                Ok(Ok(_)) => {}
            }
        };
        match op {
            ServerOp::Pong => return Ok(()),
            ServerOp::Err(error) => return Err(Failure::server(&error.text)),
            ServerOp::Ping => wire::pong(output),
            ServerOp::Info(update) => {
                state.parser.configure(&update);
                *info = *update;
            }
            ServerOp::Ok | ServerOp::Message(_) => {}
        }
    }
    Err(Failure::new(
        FailureKind::ServerError,
        "no PONG among the first lines after CONNECT",
    ))
}

/// Decides on bytes that cannot be the start of INFO, before any line has ended.
fn judge_first_bytes(input: &[u8]) -> Option<Failure> {
    let &first = input.first()?;
    // 0x15 alert, 0x16 handshake: a TLS record, from a server that expects the TLS
    // handshake before INFO (handshake_first).
    if first == 0x15 || first == 0x16 {
        return Some(Failure::new(
            FailureKind::TlsFirst,
            "the server speaks TLS before INFO (handshake_first); use tls:// and the server's TLS settings",
        ));
    }
    if input.starts_with(b"HTTP/") {
        let status_line = input
            .split(|&byte| byte == b'\n')
            .next()
            .unwrap_or_default();
        return Some(Failure::new(
            FailureKind::HttpPort,
            format!(
                "an HTTP server answers here ({}), not the NATS client port; the monitoring port is 8222, clients use 4222",
                text::printable_preview(status_line.trim_ascii(), 128)
            ),
        ));
    }
    None
}

/// An `-ERR` instead of INFO: the route and leaf node ports say so.
fn first_error(error_text: &str) -> Failure {
    let mut failure = Failure::server(error_text);
    let hint = match failure.kind {
        FailureKind::RoutePort => " — this is the cluster route port (6222); clients use 4222",
        FailureKind::LeafnodePort => " — this is the leaf node port (7422); clients use 4222",
        _ => "",
    };
    failure.message.push_str(hint);
    failure
}

fn not_nats(bytes: &[u8]) -> Failure {
    Failure::new(
        FailureKind::NotNats,
        format!(
            "not a NATS server: the first bytes were {:?}",
            text::printable_preview(bytes, 60)
        ),
    )
}
