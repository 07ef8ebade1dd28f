//! The parser, operation by operation: what it accepts, what it names as malformed,
//! and the limits it holds.

use super::*;

fn parse_all(input: &[u8]) -> (Vec<ServerOp>, Result<(), ProtocolError>, usize) {
    let parser = Parser::default();
    let mut buffer = BytesMut::from(input);
    let mut ops = Vec::new();
    loop {
        match parser.parse(&mut buffer) {
            Ok(Some(op)) => ops.push(op),
            Ok(None) => return (ops, Ok(()), buffer.len()),
            Err(error) => return (ops, Err(error), buffer.len()),
        }
    }
}

fn error_of(input: &[u8]) -> String {
    match parse_all(input).1 {
        Err(error) => error.to_string(),
        Ok(()) => panic!("no error for {:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn parses_every_server_operation() {
    let input = b"INFO {\"server_id\":\"x\",\"max_payload\":1024}\r\nPING\r\npong\r\n+OK\r\n\
        -ERR 'Permissions Violation for Publish to \"a.b\"'\r\n\
        MSG a.b 7 5\r\nhello\r\nMSG a.b 7 _INBOX.x 0\r\n\r\n\
        HMSG a.c 8 23 25\r\nNATS/1.0\r\nA: b\r\nC:d\r\n\r\nhi\r\n";
    let (ops, result, rest) = parse_all(input);
    assert_eq!(result, Ok(()));
    assert_eq!(rest, 0);
    assert_eq!(ops.len(), 8, "{ops:?}");
    let ServerOp::Info(info) = &ops[0] else {
        panic!("{:?}", ops[0])
    };
    assert_eq!(info.max_payload(), Some(1024));
    assert_eq!(ops[1], ServerOp::Ping);
    assert_eq!(ops[2], ServerOp::Pong);
    assert_eq!(ops[3], ServerOp::Ok);
    assert_eq!(
        ops[4],
        ServerOp::Err(ServerError {
            text: "Permissions Violation for Publish to \"a.b\"".to_string()
        })
    );
    let ServerOp::Message(message) = &ops[5] else {
        panic!("{:?}", ops[5])
    };
    assert_eq!(
        (message.subject.as_str(), message.sid, &message.payload[..]),
        ("a.b", 7, &b"hello"[..])
    );
    let ServerOp::Message(message) = &ops[6] else {
        panic!("{:?}", ops[6])
    };
    assert_eq!(message.reply.as_deref(), Some("_INBOX.x"));
    assert!(message.payload.is_empty());
    let ServerOp::Message(message) = &ops[7] else {
        panic!("{:?}", ops[7])
    };
    let headers = message.headers.as_ref().expect("headers");
    assert_eq!(headers.get("a"), Some("b"));
    assert_eq!(headers.get("C"), Some("d"));
    assert_eq!(headers.get("missing"), None);
    assert_eq!(&message.payload[..], b"hi");
}

#[test]
fn incomplete_operations_wait_for_more_bytes() {
    let whole = b"MSG a 1 5\r\nhello\r\n";
    for cut in 0..whole.len() {
        let (ops, result, rest) = parse_all(&whole[..cut]);
        assert!(ops.is_empty() && result.is_ok(), "cut at {cut}");
        assert_eq!(rest, cut);
    }
    assert_eq!(parse_all(whole).0.len(), 1);
}

#[test]
fn a_huge_announced_size_is_an_error_not_a_panic() {
    let error = error_of(b"MSG subject 1 18446744073709551615\r\nab");
    assert_eq!(
        error,
        "the server sent a malformed MSG: it announces 18446744073709551615 bytes, more than the 1048576 bytes of max_payload"
    );
    assert!(error_of(b"MSG subject 1 99999999999999999999999\r\nab").contains("is not a number"));
    assert!(
        error_of(b"HMSG s 1 18446744073709551615 18446744073709551615\r\n")
            .starts_with("the server sent a malformed HMSG")
    );
}

#[test]
fn max_payload_comes_from_info() {
    let mut parser = Parser::default();
    parser.configure(&ServerInfo::parse(br#"{"max_payload":4}"#).expect("info"));
    let mut buffer = BytesMut::from(&b"MSG a 1 5\r\nhello\r\n"[..]);
    let error = parser.parse(&mut buffer).expect_err("over max_payload");
    assert!(
        error.to_string().contains("more than the 4 bytes"),
        "{error}"
    );
    parser.configure(&ServerInfo::parse(br#"{"max_payload":99999999999}"#).expect("info"));
    assert_eq!(parser.payload_limit(), MAX_PAYLOAD_CEILING);
}

#[test]
fn malformed_messages_are_named() {
    assert!(error_of(b"MSG a 1 5\r\nhelloXY").contains("not followed by CRLF"));
    assert!(error_of(b"MSG a x 5\r\n").contains("sid \"x\" is not a number"));
    assert!(error_of(b"MSG a\r\n").contains("it has 1 argument(s), not 3 or 4"));
    assert!(error_of(b"MSG a 1 2 3 4 5 6\r\n").contains("too many arguments"));
    assert!(error_of(b"HMSG a 1 30 20\r\n").contains("larger than its total size"));
    assert!(error_of(b"HMSG a 1 4 20\r\n").contains("cannot hold NATS/1.0"));
    assert!(error_of(b"HMSG a 1 12 12\r\nXATS/1.0\r\n\r\n\r\n").contains("NATS/1.0"));
    assert!(error_of(b"HMSG a 1 12 12\r\nNATS/1.0\r\nab\r\n").contains("empty line"));
    assert!(error_of(b"INFO nope\r\n").starts_with("the server sent a malformed INFO"));
    assert!(error_of(b"INFO [1]\r\n").contains("not a JSON object"));
    assert!(error_of(b"PING now\r\n").contains("malformed PING"));
    assert_eq!(
        error_of(b"HELLO\r\n"),
        "the server sent an unknown operation: \"HELLO\""
    );
}

#[test]
fn a_bare_err_and_a_lone_carriage_return_are_fine() {
    let (ops, result, _) = parse_all(b"-ERR\r\n-ERR 'x'\r\n");
    assert_eq!(result, Ok(()));
    assert_eq!(
        ops[0],
        ServerOp::Err(ServerError {
            text: String::new()
        })
    );
    assert_eq!(
        ops[0].clone(),
        ServerOp::Err(ServerError {
            text: String::new()
        })
    );
    let (ops, result, _) = parse_all(b"HMSG a 1 20 20\r\nNATS/1.0\r\nA: b\rc\r\n\r\n\r\n");
    assert_eq!(result, Ok(()));
    let ServerOp::Message(message) = &ops[0] else {
        panic!("{ops:?}")
    };
    assert_eq!(
        message.headers.as_ref().and_then(|h| h.get("A")),
        Some("b\rc")
    );
}

#[test]
fn lines_without_an_end_stop_at_their_limit() {
    let mut info = b"INFO {\"a\":\"".to_vec();
    info.resize(MAX_INFO_LINE + 2, b'x');
    assert_eq!(
        error_of(&info),
        "the server sent an INFO line of more than 256 KiB without an end"
    );
    let mut below = b"INFO {\"a\":\"".to_vec();
    below.resize(MAX_INFO_LINE, b'x');
    assert_eq!(parse_all(&below).1, Ok(()));
    let mut error = b"-ERR '".to_vec();
    error.resize(MAX_CONTROL_LINE + 2, b'e');
    assert_eq!(
        error_of(&error),
        "the server sent a -ERR line of more than 64 KiB without an end"
    );
    let mut ended = b"-ERR '".to_vec();
    ended.resize(MAX_CONTROL_LINE - 10, b'e');
    ended.extend_from_slice(b"'\r\n");
    let (ops, result, _) = parse_all(&ended);
    assert_eq!(result, Ok(()));
    let ServerOp::Err(error) = &ops[0] else {
        panic!("{ops:?}")
    };
    assert!(error.text.len() < 600, "{}", error.text.len());
    assert!(
        error.text.ends_with("more bytes)"),
        "{}",
        &error.text[500..]
    );
}

#[test]
fn headers_have_a_status() {
    let (ops, _, _) = parse_all(b"HMSG a 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    let ServerOp::Message(message) = &ops[0] else {
        panic!("{ops:?}")
    };
    assert_eq!(
        message.headers.as_ref().and_then(Headers::status),
        Some(503)
    );
}
