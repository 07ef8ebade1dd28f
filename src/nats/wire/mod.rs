//! The NATS client protocol on the wire, and nothing else: server operations (INFO,
//! MSG, HMSG, PING, PONG, +OK, -ERR) parsed from a buffer, client operations (CONNECT,
//! PING, PONG, SUB, UNSUB, PUB, HPUB) encoded into one. No I/O, no clocks.
//!
//! Every limit holds while parsing, before memory is committed to an operation:
//!
//! - a control line is at most [`MAX_CONTROL_LINE`] (64 KiB). The server's own lines
//!   are a subject, a sid, a reply subject and two numbers, or an error text; nats-server
//!   accepts client lines of 4 KiB by default (`max_control_line`).
//! - an INFO line is at most [`MAX_INFO_LINE`] (256 KiB). INFO is the one line that
//!   grows with the deployment: `connect_urls` and `ws_connect_urls` list every server of
//!   the cluster, at most about 50 bytes each (`"[2001:db8:…:ffff]:4222",`), so 256 KiB
//!   holds more than 2,500 servers, far beyond any real cluster, while a line without an
//!   end still stops after a quarter of a megabyte.
//! - a message (headers and payload) is at most the `max_payload` the server announced
//!   in INFO, and never more than [`MAX_PAYLOAD_CEILING`] (64 MiB: nats-server refuses a
//!   `max_payload` above its `max_pending`, whose default is 64 MiB).
//!
//! So the read buffer never holds more than one message plus one read. Sizes are
//! parsed as numbers and every sum is checked; nothing here indexes without a bound, so
//! no input can panic. Malformed input is a [`ProtocolError`] that names the operation
//! and what was wrong with it ("the server sent a malformed MSG: …").

mod encode;

pub use encode::{
    check_subject, connect, ping, pong, publish, subscribe, unsubscribe, EncodeError,
};

use super::text;
use bytes::{Buf, Bytes, BytesMut};
use serde_json::{Map, Value};
use std::fmt;

/// The longest control line (anything but INFO), without its CRLF.
pub const MAX_CONTROL_LINE: usize = 64 * 1024;
/// The longest INFO line, without its CRLF (see the module documentation).
pub const MAX_INFO_LINE: usize = 256 * 1024;
/// The largest message accepted whatever the server announces.
pub const MAX_PAYLOAD_CEILING: usize = 64 * 1024 * 1024;
/// nats-server's default `max_payload`, assumed until INFO says otherwise.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
/// The start of every header block, and the smallest block (a version line and the
/// empty line that ends it).
const HEADER_VERSION: &[u8] = b"NATS/1.0";
const SMALLEST_HEADER_BLOCK: usize = HEADER_VERSION.len() + 4;

/// The server operations, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Info,
    Msg,
    Hmsg,
    Ping,
    Pong,
    Ok,
    Err,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Info => "INFO",
            Operation::Msg => "MSG",
            Operation::Hmsg => "HMSG",
            Operation::Ping => "PING",
            Operation::Pong => "PONG",
            Operation::Ok => "+OK",
            Operation::Err => "-ERR",
        }
    }

    /// The operation a line starts with (its name compared without case, as the
    /// reference clients do).
    fn of(line: &[u8]) -> Option<Operation> {
        let end = line
            .iter()
            .position(|&byte| byte == b' ' || byte == b'\t' || byte == b'\r' || byte == b'\n')
            .unwrap_or(line.len());
        let name = line.get(..end)?;
        [
            Operation::Info,
            Operation::Msg,
            Operation::Hmsg,
            Operation::Ping,
            Operation::Pong,
            Operation::Ok,
            Operation::Err,
        ]
        .into_iter()
        .find(|operation| name.eq_ignore_ascii_case(operation.name().as_bytes()))
    }

    /// Whether a line that has not ended yet may still become this operation's.
    fn line_limit(start: &[u8]) -> usize {
        let probe = start.get(..4).unwrap_or(start);
        if b"INFO"
            .get(..probe.len())
            .is_some_and(|info| probe.eq_ignore_ascii_case(info))
        {
            MAX_INFO_LINE
        } else {
            MAX_CONTROL_LINE
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was wrong with what the server sent. The connection cannot go on after any of
/// these: where the next operation starts is no longer known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the server sent a malformed {operation}: {reason}")]
    Malformed {
        operation: Operation,
        reason: String,
    },
    #[error("the server sent {} of more than {} KiB without an end", describe_line(*.operation), .limit / 1024)]
    LineTooLong {
        operation: Option<Operation>,
        limit: usize,
    },
    #[error("the server sent an unknown operation: {preview:?}")]
    Unknown { preview: String },
}

fn describe_line(operation: Option<Operation>) -> String {
    match operation {
        Some(Operation::Info) => "an INFO line".to_string(),
        Some(operation) => format!("a {operation} line"),
        None => "a line".to_string(),
    }
}

fn malformed(operation: Operation, reason: impl Into<String>) -> ProtocolError {
    ProtocolError::Malformed {
        operation,
        reason: reason.into(),
    }
}

/// The server's INFO: every field as sent, with typed access to those the client uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerInfo {
    pub fields: Map<String, Value>,
}

impl ServerInfo {
    fn parse(json: &[u8]) -> Result<ServerInfo, ProtocolError> {
        match serde_json::from_slice::<Value>(json) {
            Ok(Value::Object(fields)) => Ok(ServerInfo { fields }),
            Ok(_) => Err(malformed(Operation::Info, "it is not a JSON object")),
            Err(error) => Err(malformed(
                Operation::Info,
                format!("it is not valid JSON ({error})"),
            )),
        }
    }

    /// A boolean field; absent or of another type is false.
    pub fn flag(&self, key: &str) -> bool {
        self.fields
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// `max_payload` when the server announced a positive number.
    pub fn max_payload(&self) -> Option<u64> {
        self.fields
            .get("max_payload")
            .and_then(Value::as_u64)
            .filter(|&size| size > 0)
    }

    /// The message size the client accepts and sends: the announced `max_payload`,
    /// within the ceiling.
    pub fn payload_limit(&self) -> usize {
        self.max_payload()
            .and_then(|size| usize::try_from(size).ok())
            .unwrap_or(DEFAULT_MAX_PAYLOAD)
            .min(MAX_PAYLOAD_CEILING)
    }
}

/// An `-ERR` from the server, its text without the quotes and capped for output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    pub text: String,
}

impl ServerError {
    fn parse(rest: &[u8]) -> ServerError {
        let trimmed = rest.trim_ascii();
        let unquoted = trimmed
            .strip_prefix(b"'")
            .and_then(|inner| inner.strip_suffix(b"'"))
            .unwrap_or(trimmed);
        ServerError {
            text: text::from_server(unquoted),
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            f.write_str("-ERR without a text")
        } else {
            f.write_str(&self.text)
        }
    }
}

/// The header block of an HMSG, checked to start with `NATS/1.0` and to end with an
/// empty line. Lines are read on demand; a line that is not `Name: value` is skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    block: Bytes,
}

impl Headers {
    #[cfg(test)]
    pub(crate) fn for_tests(block: Bytes) -> Headers {
        Headers { block }
    }

    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.block
            .split(|&byte| byte == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .skip(1)
    }

    /// The first value of header `name` (compared without case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lines().find_map(|line| {
            let colon = line.iter().position(|&byte| byte == b':')?;
            let (key, value) = (line.get(..colon)?, line.get(colon + 1..)?);
            if !key.trim_ascii().eq_ignore_ascii_case(name.as_bytes()) {
                return None;
            }
            std::str::from_utf8(value.trim_ascii()).ok()
        })
    }

    /// The status code of the version line (`NATS/1.0 503`), if it has one.
    pub fn status(&self) -> Option<u16> {
        let first = self.block.split(|&byte| byte == b'\n').next()?;
        let rest = first.get(HEADER_VERSION.len()..)?.trim_ascii();
        let code = rest.split(|&byte| byte == b' ').next()?;
        std::str::from_utf8(code).ok()?.parse().ok()
    }
}

/// A message delivered on a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub sid: u64,
    pub reply: Option<String>,
    pub headers: Option<Headers>,
    pub payload: Bytes,
}

/// One operation from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerOp {
    Info(Box<ServerInfo>),
    Message(Message),
    Ping,
    Pong,
    Ok,
    Err(ServerError),
}

/// Parses server operations with the limits of one connection.
#[derive(Clone, Debug)]
pub struct Parser {
    payload_limit: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            payload_limit: DEFAULT_MAX_PAYLOAD,
        }
    }
}

impl Parser {
    /// Takes the payload limit from the server's INFO.
    pub fn configure(&mut self, info: &ServerInfo) {
        self.payload_limit = info.payload_limit();
    }

    pub fn payload_limit(&self) -> usize {
        self.payload_limit
    }

    /// The next complete operation at the start of `buffer`, which is consumed; `None`
    /// while more bytes are needed (nothing is consumed then). An error leaves the
    /// buffer as it was: the connection must be given up.
    pub fn parse(&self, buffer: &mut BytesMut) -> Result<Option<ServerOp>, ProtocolError> {
        let limit = Operation::line_limit(buffer);
        // The line ends at LF; a CR before it is dropped. Only `limit` bytes and the CRLF
        // are searched, so an endless line costs no more than that.
        let window = &buffer[..buffer.len().min(limit + 2)];
        let Some(end) = window.iter().position(|&byte| byte == b'\n') else {
            if buffer.len() > limit + 1 {
                return Err(ProtocolError::LineTooLong {
                    operation: Operation::of(buffer),
                    limit,
                });
            }
            return Ok(None);
        };
        let line = window.get(..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > limit {
            return Err(ProtocolError::LineTooLong {
                operation: Operation::of(line),
                limit,
            });
        }
        let line_length = end + 1;
        let Some(operation) = Operation::of(line) else {
            return Err(ProtocolError::Unknown {
                preview: text::printable_preview(line, 64),
            });
        };
        let rest = line.get(operation.name().len()..).unwrap_or_default();
        let op = match operation {
            Operation::Ping | Operation::Pong | Operation::Ok => {
                if !rest.trim_ascii().is_empty() {
                    return Err(malformed(operation, "unexpected text after the operation"));
                }
                match operation {
                    Operation::Ping => ServerOp::Ping,
                    Operation::Pong => ServerOp::Pong,
                    _ => ServerOp::Ok,
                }
            }
            Operation::Err => ServerOp::Err(ServerError::parse(rest)),
            Operation::Info => ServerOp::Info(Box::new(ServerInfo::parse(rest.trim_ascii())?)),
            Operation::Msg | Operation::Hmsg => {
                let header = MessageLine::parse(operation, rest, self.payload_limit)?;
                let Some(total) = line_length
                    .checked_add(header.total)
                    .and_then(|sum| sum.checked_add(2))
                else {
                    return Err(malformed(operation, "its sizes overflow"));
                };
                if buffer.len() < total {
                    return Ok(None);
                }
                let frame_end = buffer.get(total - 2..total).unwrap_or_default();
                if frame_end != b"\r\n" {
                    return Err(malformed(
                        operation,
                        format!(
                            "the {} bytes it announced are not followed by CRLF",
                            header.total
                        ),
                    ));
                }
                if header.headers > 0 {
                    let block = buffer
                        .get(line_length..line_length + header.headers)
                        .unwrap_or_default();
                    if !block.starts_with(HEADER_VERSION) {
                        return Err(malformed(
                            operation,
                            "the header block does not start with NATS/1.0",
                        ));
                    }
                    if !block.ends_with(b"\r\n\r\n") {
                        return Err(malformed(
                            operation,
                            "the header block does not end with an empty line",
                        ));
                    }
                }
                let subject = String::from_utf8_lossy(header.subject).into_owned();
                let reply = header
                    .reply
                    .map(|reply| String::from_utf8_lossy(reply).into_owned());
                let sid = header.sid;
                let header_length = header.headers;
                let body_length = header.total - header.headers;
                buffer.advance(line_length);
                let headers = (header_length > 0).then(|| Headers {
                    block: buffer.split_to(header_length).freeze(),
                });
                let payload = buffer.split_to(body_length).freeze();
                buffer.advance(2);
                return Ok(Some(ServerOp::Message(Message {
                    subject,
                    sid,
                    reply,
                    headers,
                    payload,
                })));
            }
        };
        buffer.advance(line_length);
        Ok(Some(op))
    }
}

/// The arguments of `MSG <subject> <sid> [reply] <size>` or
/// `HMSG <subject> <sid> [reply] <header size> <total size>`.
struct MessageLine<'a> {
    subject: &'a [u8],
    sid: u64,
    reply: Option<&'a [u8]>,
    headers: usize,
    total: usize,
}

impl<'a> MessageLine<'a> {
    fn parse(
        operation: Operation,
        rest: &'a [u8],
        payload_limit: usize,
    ) -> Result<MessageLine<'a>, ProtocolError> {
        let mut arguments: [&[u8]; 5] = [&[]; 5];
        let mut count = 0;
        for argument in rest
            .split(|&byte| byte == b' ' || byte == b'\t')
            .filter(|argument| !argument.is_empty())
        {
            match arguments.get_mut(count) {
                Some(slot) => *slot = argument,
                None => return Err(malformed(operation, "too many arguments")),
            }
            count += 1;
        }
        let with_headers = operation == Operation::Hmsg;
        let sizes = if with_headers { 2 } else { 1 };
        let expected = 2 + sizes;
        if count != expected && count != expected + 1 {
            return Err(malformed(
                operation,
                format!(
                    "it has {count} argument(s), not {expected} or {}",
                    expected + 1
                ),
            ));
        }
        let reply = (count == expected + 1).then_some(arguments[2]);
        let size_at = count - sizes;
        let sid = number(operation, "sid", arguments[1])?;
        let (headers, total) = if with_headers {
            let headers = size(operation, "header size", arguments[size_at])?;
            let total = size(operation, "total size", arguments[size_at + 1])?;
            if headers > total {
                return Err(malformed(
                    operation,
                    format!("its header size {headers} is larger than its total size {total}"),
                ));
            }
            if headers < SMALLEST_HEADER_BLOCK {
                return Err(malformed(
                    operation,
                    format!(
                        "a header block of {headers} bytes cannot hold NATS/1.0 and the empty line that ends it"
                    ),
                ));
            }
            (headers, total)
        } else {
            (0, size(operation, "size", arguments[size_at])?)
        };
        if total > payload_limit {
            return Err(malformed(
                operation,
                format!(
                    "it announces {total} bytes, more than the {payload_limit} bytes of max_payload"
                ),
            ));
        }
        Ok(MessageLine {
            subject: arguments[0],
            sid,
            reply,
            headers,
            total,
        })
    }
}

/// A decimal number of at most 20 digits.
fn number(operation: Operation, what: &str, digits: &[u8]) -> Result<u64, ProtocolError> {
    let parsed =
        if !digits.is_empty() && digits.len() <= 20 && digits.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(digits)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
        } else {
            None
        };
    parsed.ok_or_else(|| {
        malformed(
            operation,
            format!(
                "its {what} {:?} is not a number",
                text::printable_preview(digits, 32)
            ),
        )
    })
}

/// A size: a number that also fits in memory's address space. Whether it is within the
/// payload limit is checked by the caller.
fn size(operation: Operation, what: &str, digits: &[u8]) -> Result<usize, ProtocolError> {
    let value = number(operation, what, digits)?;
    usize::try_from(value).map_err(|_| {
        malformed(
            operation,
            format!("its {what} {value} does not fit in memory"),
        )
    })
}

#[cfg(test)]
mod tests;
