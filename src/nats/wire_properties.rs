//! Properties of the wire parser over generated input, deterministic (fixed seeds) and
//! bounded (a few thousand streams), so that it runs in every test run:
//!
//! - a stream of valid operations, cut into random chunks, parses back to exactly those
//!   operations;
//! - the same streams mutated (bytes flipped, inserted, removed, sizes replaced by huge
//!   numbers, lines cut) never panic, every error names what the server sent, and the
//!   buffer never holds more than the largest operation the limits allow plus one chunk;
//! - a parse that needs more bytes, or fails, leaves the buffer as it was.

use super::wire::{
    Headers, Message, Parser, ServerError, ServerInfo, ServerOp, MAX_CONTROL_LINE, MAX_INFO_LINE,
};
use bytes::{Bytes, BytesMut};
use fastrand::Rng;
use serde_json::json;

const STREAMS: u64 = 3000;
const PAYLOAD_LIMIT: usize = 2048;

fn word(rng: &mut Rng, alphabet: &[u8], lengths: std::ops::Range<usize>) -> String {
    let length = rng.usize(lengths);
    (0..length)
        .map(|_| char::from(alphabet[rng.usize(..alphabet.len())]))
        .collect()
}

fn subject(rng: &mut Rng) -> String {
    let tokens = rng.usize(1..5);
    (0..tokens)
        .map(|_| word(rng, b"abcdefghijklmnopqrstuvwxyz0123456789_-", 1..8))
        .collect::<Vec<_>>()
        .join(".")
}

fn bytes(rng: &mut Rng, lengths: std::ops::Range<usize>) -> Vec<u8> {
    let length = rng.usize(lengths);
    (0..length).map(|_| rng.u8(..)).collect()
}

fn header_block(rng: &mut Rng) -> Vec<u8> {
    let mut block = b"NATS/1.0".to_vec();
    if rng.bool() {
        block.extend_from_slice(format!(" {}", rng.u16(100..600)).as_bytes());
    }
    block.extend_from_slice(b"\r\n");
    for _ in 0..rng.usize(0..4) {
        let name = word(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ-abc", 1..12);
        let value = word(rng, b"abc 0123456789:;\r", 0..20);
        block.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    block.extend_from_slice(b"\r\n");
    block
}

/// A valid operation and its bytes on the wire.
fn operation(rng: &mut Rng) -> (ServerOp, Vec<u8>) {
    match rng.u8(0..8) {
        0 => {
            let fields = json!({
                "server_id": word(rng, b"ABCDEF0123456789", 20..21),
                "version": "2.10.0",
                "max_payload": PAYLOAD_LIMIT,
                "connect_urls": (0..rng.usize(0..5)).map(|i| format!("10.0.0.{i}:4222")).collect::<Vec<_>>(),
            });
            let wire = format!("INFO {fields}\r\n").into_bytes();
            let serde_json::Value::Object(fields) = fields else {
                unreachable!("an object literal")
            };
            (ServerOp::Info(Box::new(ServerInfo { fields })), wire)
        }
        1 => (ServerOp::Ping, b"PING\r\n".to_vec()),
        2 => (ServerOp::Pong, b"PONG\r\n".to_vec()),
        3 => (ServerOp::Ok, b"+OK\r\n".to_vec()),
        4 => {
            let text = word(rng, b"abcdefgh ijklmnop\"\\_.", 0..60);
            let text = text.trim().to_string();
            let wire = format!("-ERR '{text}'\r\n").into_bytes();
            (ServerOp::Err(ServerError { text }), wire)
        }
        _ => {
            let subject = subject(rng);
            let sid = rng.u64(..);
            let reply = rng.bool().then(|| subject_reply(rng));
            let with_headers = rng.bool();
            let payload = bytes(rng, 0..300);
            let block = with_headers.then(|| header_block(rng));
            let mut wire = Vec::new();
            let reply_part = reply
                .as_ref()
                .map(|reply| format!(" {reply}"))
                .unwrap_or_default();
            match &block {
                Some(block) => wire.extend_from_slice(
                    format!(
                        "HMSG {subject} {sid}{reply_part} {} {}\r\n",
                        block.len(),
                        block.len() + payload.len()
                    )
                    .as_bytes(),
                ),
                None => wire.extend_from_slice(
                    format!("MSG {subject} {sid}{reply_part} {}\r\n", payload.len()).as_bytes(),
                ),
            }
            if let Some(block) = &block {
                wire.extend_from_slice(block);
            }
            wire.extend_from_slice(&payload);
            wire.extend_from_slice(b"\r\n");
            let message = Message {
                subject,
                sid,
                reply,
                headers: block.map(|block| Headers::for_tests(Bytes::from(block))),
                payload: Bytes::from(payload),
            };
            (ServerOp::Message(message), wire)
        }
    }
}

fn subject_reply(rng: &mut Rng) -> String {
    format!(
        "_INBOX.{}",
        word(rng, b"ABCDEFGHIJKLMNOP0123456789", 22..23)
    )
}

/// The most a buffer may hold after a parse that asks for more bytes.
fn bound() -> usize {
    (MAX_INFO_LINE + 2).max(MAX_CONTROL_LINE + 2 + PAYLOAD_LIMIT + 2)
}

/// Feeds `stream` in random chunks; returns the operations and the first error.
fn parse_in_chunks(rng: &mut Rng, stream: &[u8]) -> (Vec<ServerOp>, Option<String>) {
    let mut parser = Parser::default();
    parser.configure(&ServerInfo {
        fields: json!({ "max_payload": PAYLOAD_LIMIT })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    });
    let mut buffer = BytesMut::new();
    let mut ops = Vec::new();
    let mut at = 0;
    // Bounded: every pass takes at least one byte of the stream.
    while at < stream.len() {
        let chunk = rng.usize(1..=(stream.len() - at).min(4096));
        buffer.extend_from_slice(&stream[at..at + chunk]);
        at += chunk;
        loop {
            let before = buffer.clone();
            match parser.parse(&mut buffer) {
                Ok(Some(op)) => ops.push(op),
                Ok(None) => {
                    assert_eq!(buffer, before, "a parse that needs more consumed bytes");
                    assert!(
                        buffer.len() <= bound(),
                        "buffer holds {} bytes",
                        buffer.len()
                    );
                    break;
                }
                Err(error) => {
                    assert_eq!(buffer, before, "a failed parse consumed bytes");
                    return (ops, Some(error.to_string()));
                }
            }
        }
    }
    (ops, None)
}

#[test]
fn valid_streams_parse_back_in_any_chunking() {
    for seed in 0..STREAMS {
        let mut rng = Rng::with_seed(seed);
        let mut expected = Vec::new();
        let mut stream = Vec::new();
        for _ in 0..rng.usize(1..12) {
            let (op, wire) = operation(&mut rng);
            expected.push(op);
            stream.extend_from_slice(&wire);
        }
        let (ops, error) = parse_in_chunks(&mut rng, &stream);
        assert_eq!(error, None, "seed {seed}");
        assert_eq!(ops, expected, "seed {seed}");
    }
}

/// Replaces a number of the stream with one of the sizes that break naive parsers.
fn replace_a_number(rng: &mut Rng, stream: &mut Vec<u8>) {
    let digits: Vec<usize> = (0..stream.len())
        .filter(|&i| stream[i].is_ascii_digit())
        .collect();
    if digits.is_empty() {
        return;
    }
    let start = digits[rng.usize(..digits.len())];
    let end = (start..stream.len())
        .find(|&i| !stream[i].is_ascii_digit())
        .unwrap_or(stream.len());
    let huge = [
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "4294967295",
        "99999999999999999999999999",
        "0",
        "2049",
        "-1",
    ];
    stream.splice(start..end, huge[rng.usize(..huge.len())].bytes());
}

fn mutate(rng: &mut Rng, stream: &mut Vec<u8>) {
    for _ in 0..rng.usize(1..4) {
        if stream.is_empty() {
            return;
        }
        let at = rng.usize(..stream.len());
        match rng.u8(0..7) {
            0 => stream[at] = rng.u8(..),
            1 => stream.insert(at, [b'\r', b'\n', b' ', b'\t', b'0', b'\''][rng.usize(..6)]),
            2 => {
                stream.remove(at);
            }
            3 => stream.truncate(at),
            4 => replace_a_number(rng, stream),
            5 => {
                let filler = rng.usize(1..MAX_CONTROL_LINE + 64);
                stream.splice(at..at, std::iter::repeat_n(b'x', filler));
            }
            _ => {
                stream.splice(at..at, b"HMSG a 1 5 3\r\n".iter().copied());
            }
        }
    }
}

#[test]
fn mutated_streams_fail_by_name_within_bounds() {
    let mut errors = 0;
    for seed in 0..STREAMS {
        let mut rng = Rng::with_seed(seed ^ 0x5eed);
        let mut stream = Vec::new();
        for _ in 0..rng.usize(1..8) {
            stream.extend_from_slice(&operation(&mut rng).1);
        }
        mutate(&mut rng, &mut stream);
        let (_, error) = parse_in_chunks(&mut rng, &stream);
        if let Some(error) = error {
            errors += 1;
            assert!(
                error.starts_with("the server sent "),
                "seed {seed}: {error}"
            );
            assert!(error.len() < 1024, "seed {seed}: {} bytes", error.len());
        }
    }
    // The mutations are not all harmless: the parser did reject many streams.
    assert!(errors > STREAMS / 4, "only {errors} streams were rejected");
}

#[test]
fn endless_lines_stop_at_the_limit_in_any_chunking() {
    for seed in 0..20 {
        let mut rng = Rng::with_seed(seed);
        let start: &[u8] = match seed % 4 {
            0 => b"INFO {\"a\":\"",
            1 => b"-ERR '",
            2 => b"MSG a.b 1 ",
            _ => b"",
        };
        let mut stream = start.to_vec();
        stream.extend(std::iter::repeat_n(b'7', MAX_INFO_LINE + 4096));
        let (ops, error) = parse_in_chunks(&mut rng, &stream);
        assert!(ops.is_empty());
        let error = error.expect("an endless line is an error");
        assert!(error.contains("without an end"), "{error}");
    }
}
