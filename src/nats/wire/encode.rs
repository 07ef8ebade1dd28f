//! Client operations on the wire (CONNECT, PING, PONG, SUB, UNSUB, PUB, HPUB), encoded
//! into the output buffer, with what cannot be written refused: a subject with white
//! space or control characters, a header that would break the block, a message larger
//! than the server's `max_payload`.

use super::HEADER_VERSION;
use crate::nats::text;
use bytes::{BufMut, BytesMut};
use serde_json::Value;

/// Why a client operation could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{subject:?} is not a subject: {reason}")]
    Subject {
        subject: String,
        reason: &'static str,
    },
    #[error("header {name:?}: {reason}")]
    Header { name: String, reason: &'static str },
    #[error("a message of {size} bytes is more than the server's max_payload of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the server does not take headers (its INFO has no \"headers\": true)")]
    HeadersUnsupported,
}

/// A subject that cannot go on the wire, as an encoding error (see
/// [`crate::subject::wire_problem`]).
pub fn check_subject(subject: &str) -> Result<(), EncodeError> {
    match crate::subject::wire_problem(subject) {
        Some(reason) => Err(EncodeError::Subject {
            subject: text::cap(subject, 64),
            reason,
        }),
        None => Ok(()),
    }
}

/// `CONNECT {json}`.
pub fn connect(out: &mut BytesMut, fields: &Value) {
    out.put_slice(b"CONNECT ");
    out.put_slice(fields.to_string().as_bytes());
    out.put_slice(b"\r\n");
}

pub fn ping(out: &mut BytesMut) {
    out.put_slice(b"PING\r\n");
}

pub fn pong(out: &mut BytesMut) {
    out.put_slice(b"PONG\r\n");
}

/// `SUB <subject> <sid>`.
pub fn subscribe(out: &mut BytesMut, subject: &str, sid: u64) -> Result<(), EncodeError> {
    check_subject(subject)?;
    out.put_slice(b"SUB ");
    out.put_slice(subject.as_bytes());
    out.put_slice(format!(" {sid}\r\n").as_bytes());
    Ok(())
}

/// `UNSUB <sid>`.
pub fn unsubscribe(out: &mut BytesMut, sid: u64) {
    out.put_slice(format!("UNSUB {sid}\r\n").as_bytes());
}

/// `PUB <subject> <size>` and the payload, or `HPUB <subject> <header size> <total size>`
/// with a `NATS/1.0` header block when there are headers. `limit` is the server's
/// `max_payload`, which applies to headers and payload together.
pub fn publish(
    out: &mut BytesMut,
    subject: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
    limit: usize,
) -> Result<(), EncodeError> {
    check_subject(subject)?;
    let mut block = Vec::new();
    if !headers.is_empty() {
        block.extend_from_slice(HEADER_VERSION);
        block.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            let bad_name = name.is_empty()
                || name
                    .chars()
                    .any(|c| c == ':' || c.is_whitespace() || c.is_control());
            if bad_name {
                return Err(EncodeError::Header {
                    name: text::cap(name, 64),
                    reason:
                        "a name must be non-empty, without ':', whitespace or control characters",
                });
            }
            if value.chars().any(|c| c == '\r' || c == '\n') {
                return Err(EncodeError::Header {
                    name: text::cap(name, 64),
                    reason: "a value must not contain a line break",
                });
            }
            block.extend_from_slice(name.as_bytes());
            block.extend_from_slice(b": ");
            block.extend_from_slice(value.as_bytes());
            block.extend_from_slice(b"\r\n");
        }
        block.extend_from_slice(b"\r\n");
    }
    let total = block.len().saturating_add(payload.len());
    if total > limit {
        return Err(EncodeError::TooLarge { size: total, limit });
    }
    out.reserve(subject.len() + total + 48);
    if block.is_empty() {
        out.put_slice(b"PUB ");
        out.put_slice(subject.as_bytes());
        out.put_slice(format!(" {}\r\n", payload.len()).as_bytes());
    } else {
        out.put_slice(b"HPUB ");
        out.put_slice(subject.as_bytes());
        out.put_slice(format!(" {} {total}\r\n", block.len()).as_bytes());
        out.put_slice(&block);
    }
    out.put_slice(payload);
    out.put_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_client_operations() {
        let mut out = BytesMut::new();
        subscribe(&mut out, "a.>", 3).expect("subject");
        unsubscribe(&mut out, 3);
        publish(&mut out, "a.b", &[], b"hi", 10).expect("fits");
        publish(&mut out, "a.b", &[("K", "v")], b"hi", 100).expect("fits");
        ping(&mut out);
        pong(&mut out);
        assert_eq!(
            &out[..],
            b"SUB a.> 3\r\nUNSUB 3\r\nPUB a.b 2\r\nhi\r\nHPUB a.b 18 20\r\nNATS/1.0\r\nK: v\r\n\r\nhi\r\nPING\r\nPONG\r\n"
        );
        assert!(publish(&mut out, "a b", &[], b"", 10).is_err());
        assert!(publish(&mut out, "a\r\nPUB", &[], b"", 10).is_err());
        assert!(subscribe(&mut out, "", 1).is_err());
        assert!(publish(&mut out, "a", &[("K:", "v")], b"", 100).is_err());
        assert!(publish(&mut out, "a", &[("K", "v\r\n")], b"", 100).is_err());
        assert_eq!(
            publish(&mut out, "a", &[], b"hello", 4),
            Err(EncodeError::TooLarge { size: 5, limit: 4 })
        );
    }
}
