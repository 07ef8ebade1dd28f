//! An established NATS connection, driven by the command that owns it: no background
//! task, no queue between the socket and the command. The command subscribes and
//! publishes (queued in an output buffer), then asks for the next thing the server
//! sent: a message, an `-ERR`, a PONG or a new INFO. Server PINGs are answered on the
//! way. Every method that waits is cancel-safe, so a command can race it against a
//! timer or a signal: bytes read stay in the input buffer, bytes not yet written stay
//! in the output buffer.
//!
//! Memory is bounded: the input buffer holds at most one operation (see `wire`) plus
//! one read, and the output buffer refuses to grow past [`MAX_PENDING_OUTPUT`] (a
//! server that stops reading is a dead connection).

use super::error::{Failure, FailureKind};
use super::transport::Stream;
use super::wire::{self, EncodeError, Message, Parser, ServerError, ServerInfo, ServerOp};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How much is asked of the socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Output not yet taken by the server beyond which the connection counts as dead.
pub const MAX_PENDING_OUTPUT: usize = 16 * 1024 * 1024;

/// What the server sent, as the command sees it.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// An `-ERR`. Permission violations leave the connection open; after most other
    /// errors the server closes it, which the next call reports.
    ServerError(ServerError),
    /// The answer to one of our PINGs.
    Pong,
    /// A new INFO (servers joining the cluster, lame duck mode).
    Info,
}

/// What the handshake established, for the commands that report it.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub info: ServerInfo,
    /// INFO came only after the client had spoken first.
    pub info_after_nudge: bool,
    pub tls: bool,
}

/// One NATS connection.
pub struct Client {
    stream: Stream,
    input: BytesMut,
    output: BytesMut,
    parser: Parser,
    handshake: Handshake,
    address: SocketAddr,
    next_sid: u64,
    pings_sent: u64,
    pongs_received: u64,
}

impl Client {
    pub(crate) fn new(
        stream: Stream,
        input: BytesMut,
        parser: Parser,
        handshake: Handshake,
        address: SocketAddr,
    ) -> Client {
        Client {
            stream,
            input,
            output: BytesMut::with_capacity(4096),
            parser,
            handshake,
            address,
            next_sid: 1,
            pings_sent: 0,
            pongs_received: 0,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    pub fn info(&self) -> &ServerInfo {
        &self.handshake.info
    }

    /// Subscribes to `subject`; returns the subscription id. Queued until the next
    /// write.
    pub fn subscribe(&mut self, subject: &str) -> Result<u64, EncodeError> {
        let sid = self.next_sid;
        wire::subscribe(&mut self.output, subject, sid)?;
        self.next_sid += 1;
        Ok(sid)
    }

    pub fn unsubscribe(&mut self, sid: u64) {
        wire::unsubscribe(&mut self.output, sid);
    }

    /// Publishes `payload` on `subject`, with headers when there are any. Queued until
    /// the next write; refused when it would exceed the server's max_payload.
    pub fn publish(
        &mut self,
        subject: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<(), EncodeError> {
        // HPUB to a server without header support is a protocol error it closes on.
        if !headers.is_empty() && !self.handshake.info.flag("headers") {
            return Err(EncodeError::HeadersUnsupported);
        }
        wire::publish(
            &mut self.output,
            subject,
            headers,
            payload,
            self.parser.payload_limit(),
        )
    }

    /// Queues a PING; its PONG comes back through [`Client::next`].
    pub fn ping(&mut self) {
        wire::ping(&mut self.output);
        self.pings_sent += 1;
    }

    /// PINGs sent that have not been answered yet.
    pub fn pings_outstanding(&self) -> u64 {
        self.pings_sent.saturating_sub(self.pongs_received)
    }

    /// Bytes queued and not yet written.
    pub fn pending_output(&self) -> usize {
        self.output.len()
    }

    /// Writes everything queued. Cancel-safe: what was not written stays queued.
    pub async fn write_queued(&mut self) -> Result<(), Failure> {
        // Bounded: every pass writes at least one byte or returns.
        while !self.output.is_empty() {
            let written = self
                .stream
                .write(&self.output)
                .await
                .map_err(|error| Failure::io(&error))?;
            if written == 0 {
                return Err(Failure::closed("while we were writing"));
            }
            self.output.advance(written);
        }
        self.stream
            .flush()
            .await
            .map_err(|error| Failure::io(&error))
    }

    /// The next operation already in the input buffer, without waiting. A PING is
    /// answered (the PONG is queued) and `+OK` skipped.
    pub fn try_next(&mut self) -> Result<Option<Incoming>, Failure> {
        // Bounded: each pass consumes one operation from a bounded buffer.
        loop {
            let Some(op) = self.parser.parse(&mut self.input)? else {
                return Ok(None);
            };
            match op {
                ServerOp::Message(message) => return Ok(Some(Incoming::Message(message))),
                ServerOp::Err(error) => return Ok(Some(Incoming::ServerError(error))),
                ServerOp::Pong => {
                    self.pongs_received += 1;
                    return Ok(Some(Incoming::Pong));
                }
                ServerOp::Info(info) => {
                    self.parser.configure(&info);
                    self.handshake.info = *info;
                    return Ok(Some(Incoming::Info));
                }
                ServerOp::Ping => {
                    if self.output.len() > MAX_PENDING_OUTPUT {
                        return Err(stalled());
                    }
                    wire::pong(&mut self.output);
                }
                ServerOp::Ok => {}
            }
        }
    }

    /// The next thing the server sends. Writes what is queued first. Cancel-safe.
    pub async fn next(&mut self) -> Result<Incoming, Failure> {
        // Bounded: each pass returns, or reads more into a bounded buffer.
        loop {
            if let Some(incoming) = self.try_next()? {
                return Ok(incoming);
            }
            if self.output.len() > MAX_PENDING_OUTPUT {
                return Err(stalled());
            }
            self.write_queued().await?;
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> Result<(), Failure> {
        self.input.reserve(READ_CHUNK);
        let read = self
            .stream
            .read_buf(&mut self.input)
            .await
            .map_err(|error| Failure::io(&error))?;
        if read == 0 {
            return Err(Failure::closed(if self.input.is_empty() {
                ""
            } else {
                "in the middle of an operation"
            }));
        }
        Ok(())
    }

    /// Closes the connection: what is queued is written within `limit`, then the
    /// stream is shut down. Best effort; errors are of no interest at that point.
    pub async fn close(mut self, limit: std::time::Duration) {
        let _ = tokio::time::timeout(limit, async {
            let _ = self.write_queued().await;
            let _ = self.stream.shutdown().await;
        })
        .await;
    }
}

fn stalled() -> Failure {
    Failure::new(
        FailureKind::TimedOut,
        "the server stopped reading what this client sends",
    )
}
