//! nats-doctor's own core-NATS client, used by `check` (the nats and roundtrip steps),
//! `test-messaging` and `watch`. It speaks only what these commands need: CONNECT with
//! every kind of credentials, TLS, SUB/UNSUB, PUB/HPUB, PING/PONG, and the server's
//! INFO, MSG, HMSG, +OK and -ERR. No JetStream, no request/reply, no WebSocket.
//!
//! Why not async-nats: a diagnosis tool meets broken and hostile servers, and
//! async-nats (0.51, the newest release) trusts them. A `MSG` announcing
//! 18446744073709551615 bytes overflows its size arithmetic and panics in `split_to`
//! (with `panic = "abort"` that kills the process); so do a bare `-ERR` and a lone CR in
//! a header value. Its read buffer grows without limit for a line that never ends or a
//! payload announced larger than max_payload, and it offers no way to put a bounded
//! reader under it. Vendoring a patched copy would mean some 44,000 lines of someone
//! else's code in the tree; the subset needed here is small.
//!
//! The layers, from the bytes up:
//!
//! - [`wire`]: server operations parsed from a buffer and client operations encoded,
//!   with hard limits on every line and payload and an error value for every malformed
//!   input; no I/O.
//! - [`transport`] and [`tls`]: the TCP stream, and TLS over it.
//! - [`auth`]: the credentials a CONNECT carries, nonce signing for nkeys and JWTs.
//! - [`connect`]: opening a connection to one address under one deadline, with the
//!   server's first words judged (monitoring port, route port, TLS-first, silence).
//! - [`client`]: an established connection driven by the command's own loop.
//! - [`error`]: the one classification of failures every command reports with; and
//!   [`text`]: server texts capped before they reach any output.
//!
//! Nothing here panics on what a peer sends, waits without a deadline the caller
//! chose, or holds more than one message and one read of input.

pub mod auth;
pub mod client;
pub mod connect;
pub mod error;
pub mod text;
pub mod tls;
pub mod transport;
pub mod wire;

#[cfg(test)]
mod wire_properties;

pub use client::{Client, Incoming};
pub use error::{ConnectError, Failure, FailureKind};
pub use wire::{Headers, Message, ServerError, ServerInfo};
