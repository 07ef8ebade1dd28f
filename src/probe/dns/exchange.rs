//! One DNS question put to the nameservers of a resolv.conf the way a pod's stub resolver
//! (glibc) puts it: over UDP, each nameserver in turn, `attempts` rounds of `timeout`
//! each, all within the step's deadline. A datagram with another id, for another
//! question or too short to hold a header is set aside and the wait goes on, as glibc
//! does; a truncated reply (TC bit) is asked again over TCP. The result is a decoded
//! message that answers the question, or the named reason there is none: what the pod
//! would have seen, told apart from what merely looks the same to it.

use super::Answer;
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::DecodeError;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

/// Why a question got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub answer: Answer,
    pub reason: String,
}

impl Fault {
    fn new(answer: Answer, reason: impl Into<String>) -> Fault {
        Fault {
            answer,
            reason: reason.into(),
        }
    }
}

/// Where and how patiently to ask.
#[derive(Clone, Debug)]
pub(crate) struct Nameservers {
    pub addresses: Vec<SocketAddr>,
    /// resolv.conf `timeout`: how long one try waits for its reply.
    pub try_timeout: Duration,
    /// resolv.conf `attempts`: rounds over all nameservers.
    pub attempts: usize,
}

/// A DNS header is 12 bytes; anything shorter cannot be matched to a query.
const HEADER_LENGTH: usize = 12;
/// Datagrams read per try before giving up on it: a flood of stray replies must not
/// keep the loop going.
const DATAGRAMS_PER_TRY: usize = 64;
/// Distinct reasons kept for one question (attempts × nameservers is small; a long
/// resolv.conf must not make the report grow).
const REASONS_KEPT: usize = 6;

/// Asks `name`/`kind` until a nameserver answers it, the tries are used up or
/// `deadline` passes. A reply with NOERROR or NXDOMAIN is an answer; SERVFAIL,
/// REFUSED and NOTIMP move on to the next nameserver, as glibc does.
pub(crate) async fn ask(
    nameservers: &Nameservers,
    name: &Name,
    kind: RecordType,
    deadline: Instant,
) -> Result<Message, Fault> {
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name.clone(), kind));
    let bytes = query
        .to_vec()
        .map_err(|error| Fault::new(Answer::Error, format!("cannot encode the query: {error}")))?;
    let question = Question {
        id: query.metadata.id,
        name,
        kind,
    };
    let mut worst: Option<Answer> = None;
    let mut reasons: Vec<String> = Vec::new();
    let mut record = |fault: Fault| {
        worst = Some(super::more_serious(worst.clone(), fault.answer));
        if reasons.len() < REASONS_KEPT && !reasons.contains(&fault.reason) {
            reasons.push(fault.reason);
        }
    };
    'rounds: for _ in 0..nameservers.attempts.max(1) {
        for server in &nameservers.addresses {
            let now = Instant::now();
            if now >= deadline {
                break 'rounds;
            }
            let until = now
                .checked_add(nameservers.try_timeout)
                .map_or(deadline, |end| end.min(deadline));
            match over_udp(*server, &bytes, &question, until).await {
                Ok(message) => match message.metadata.response_code {
                    ResponseCode::NoError | ResponseCode::NXDomain => return Ok(message),
                    code @ (ResponseCode::ServFail
                    | ResponseCode::Refused
                    | ResponseCode::NotImp) => record(rcode_fault(*server, code)),
                    code => return Err(rcode_fault(*server, code)),
                },
                // A reply that matched the query and cannot be read is the answer: glibc
                // takes it, and fails on it.
                Err(fault) if fault.answer.is_broken_reply() => return Err(fault),
                Err(fault) => record(fault),
            }
        }
    }
    // Nothing recorded: the deadline passed before the first try.
    Err(Fault::new(
        worst.unwrap_or(Answer::Timeout),
        if reasons.is_empty() {
            "the step's time limit ran out".to_string()
        } else {
            reasons.join("; ")
        },
    ))
}

/// What a reply must match.
struct Question<'a> {
    id: u16,
    name: &'a Name,
    kind: RecordType,
}

fn rcode_fault(server: SocketAddr, code: ResponseCode) -> Fault {
    let answer = match code {
        ResponseCode::ServFail => Answer::ServFail,
        ResponseCode::Refused => Answer::Refused,
        ResponseCode::NotImp => Answer::NotImp,
        ResponseCode::FormErr => Answer::FormErr,
        _ => Answer::Error,
    };
    Fault::new(
        answer,
        format!(
            "{server} answered {} (response code {})",
            code.to_str(),
            u16::from(code)
        ),
    )
}

/// What one datagram or TCP message turned out to be.
enum Reading {
    /// Decoded, and it answers the question.
    Reply(Message),
    /// The TC bit: ask again over TCP.
    Truncated,
    /// Not for this question (or not even a header): resolvers ignore it and wait on.
    Stray(Fault),
    /// For this question, and unreadable.
    Broken(Fault),
}

fn read_reply(
    bytes: &[u8],
    question: &Question<'_>,
    server: SocketAddr,
    transport: &str,
) -> Reading {
    if bytes.len() < HEADER_LENGTH {
        return Reading::Stray(Fault::new(
            Answer::Short,
            format!(
                "{server} sent a {}-byte reply over {transport}, shorter than a DNS header (12 bytes)",
                bytes.len()
            ),
        ));
    }
    let id = u16::from_be_bytes([bytes[0], bytes[1]]);
    if id != question.id {
        return Reading::Stray(Fault::new(
            Answer::WrongId,
            format!(
                "{server} sent a reply with id {id:#06x} to the query with id {:#06x} (ignored, as resolvers do)",
                question.id
            ),
        ));
    }
    const QR: u8 = 0x80;
    const TC: u8 = 0x02;
    if bytes[2] & QR == 0 {
        return Reading::Stray(Fault::new(
            Answer::Malformed,
            format!("{server} sent a query, not a reply"),
        ));
    }
    if bytes[2] & TC != 0 {
        return Reading::Truncated;
    }
    let message = match Message::from_vec(bytes) {
        Ok(message) => message,
        Err(error) => return Reading::Broken(decode_fault(&error, server, bytes.len())),
    };
    let matches = match message.queries.as_slice() {
        [asked] => asked.name() == question.name && asked.query_type() == question.kind,
        _ => false,
    };
    if !matches {
        let theirs = message
            .queries
            .iter()
            .map(|q| format!("{} {}", q.name(), q.query_type()))
            .collect::<Vec<_>>()
            .join(", ");
        return Reading::Stray(Fault::new(
            Answer::WrongName,
            format!(
                "{server} answered a question for {} instead of {} {} (ignored, as resolvers do)",
                if theirs.is_empty() {
                    "nothing"
                } else {
                    theirs.as_str()
                },
                question.name,
                question.kind
            ),
        ));
    }
    Reading::Reply(message)
}

fn decode_fault(error: &DecodeError, server: SocketAddr, length: usize) -> Fault {
    let answer = match error {
        DecodeError::PointerNotPriorToLabel { .. } | DecodeError::LabelOverlapsWithOther { .. } => {
            Answer::PointerLoop
        }
        DecodeError::InsufficientBytes | DecodeError::IncorrectRDataLengthRead { .. } => {
            Answer::BadLength
        }
        _ => Answer::Malformed,
    };
    let what = match answer {
        Answer::PointerLoop => "a name compression pointer that does not point back (a loop)",
        Answer::BadLength => "a length or count that runs past the end of the message",
        _ => "content that is not a DNS message",
    };
    Fault::new(
        answer,
        format!("{server} sent a {length}-byte reply with {what}: {error}"),
    )
}

fn io_fault(server: SocketAddr, error: &std::io::Error, transport: &str) -> Fault {
    let reason = match (error.kind(), error.raw_os_error()) {
        (ErrorKind::ConnectionRefused, _) if transport == "UDP" => {
            format!("{server} refuses DNS (ICMP port unreachable): nothing listens there")
        }
        (ErrorKind::ConnectionRefused, _) => {
            format!("{server} refused the {transport} connection")
        }
        // EHOSTUNREACH, ENETUNREACH on Linux.
        (ErrorKind::HostUnreachable, _) | (_, Some(113)) => {
            format!("{server} is unreachable (ICMP host unreachable or no route)")
        }
        (ErrorKind::NetworkUnreachable, _) | (_, Some(101)) => {
            format!("no route to {server}")
        }
        // EPERM, EACCES: a local firewall rule refused the packet.
        (ErrorKind::PermissionDenied, _) | (_, Some(1)) => {
            format!("a local firewall refuses packets to {server} ({error})")
        }
        (ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted, _) => {
            format!("{server} reset the {transport} connection")
        }
        _ => format!("{server} over {transport}: {error}"),
    };
    Fault::new(Answer::Unreachable, reason)
}

fn waited(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

async fn over_udp(
    server: SocketAddr,
    query: &[u8],
    question: &Question<'_>,
    until: Instant,
) -> Result<Message, Fault> {
    let started = Instant::now();
    let local: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|error| Fault::new(Answer::Error, format!("cannot open a UDP socket: {error}")))?;
    // A connected socket hears the ICMP errors about its destination.
    hear_icmp_errors(&socket, server.is_ipv4());
    socket
        .connect(server)
        .await
        .map_err(|error| io_fault(server, &error, "UDP"))?;
    socket
        .send(query)
        .await
        .map_err(|error| io_fault(server, &error, "UDP"))?;
    let mut stray: Option<Fault> = None;
    let mut buffer = vec![0u8; 65_536];
    for _ in 0..DATAGRAMS_PER_TRY {
        let length = match timeout_at(until, socket.recv(&mut buffer)).await {
            Err(_) => break,
            Ok(Err(error)) => return Err(io_fault(server, &error, "UDP")),
            Ok(Ok(length)) => length,
        };
        match read_reply(&buffer[..length], question, server, "UDP") {
            Reading::Reply(message) => return Ok(message),
            Reading::Broken(fault) => return Err(fault),
            Reading::Stray(fault) => stray = Some(fault),
            Reading::Truncated => {
                return over_tcp(server, query, question, until).await.map_err(|fault| {
                    if fault.answer.is_broken_reply() {
                        Fault::new(
                            fault.answer,
                            format!("after a truncated UDP reply, over TCP: {}", fault.reason),
                        )
                    } else {
                        Fault::new(
                            Answer::Truncated,
                            format!(
                                "{server} truncated its UDP reply (TC bit); the TCP retry failed: {}",
                                fault.reason
                            ),
                        )
                    }
                })
            }
        }
    }
    Err(match stray {
        Some(fault) => Fault::new(
            fault.answer,
            format!(
                "{}; no other reply within {} ms",
                fault.reason,
                waited(started)
            ),
        ),
        None => Fault::new(
            Answer::Timeout,
            format!("no answer from {server} within {} ms", waited(started)),
        ),
    })
}

/// Linux tells a UDP socket of an ICMP port unreachable, and of host and network
/// unreachable only with IP_RECVERR; glibc's resolver sets it, so a pod hears them all.
#[cfg(target_os = "linux")]
fn hear_icmp_errors(socket: &UdpSocket, ipv4: bool) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    let (level, option) = if ipv4 {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    };
    // SAFETY: the descriptor is the open socket borrowed for the call; the value points
    // at a c_int that outlives the call, and its size is the one given. Failing leaves
    // the socket as it was (only port unreachable is heard), so the result is not needed.
    let _ = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            option,
            std::ptr::from_ref(&on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn hear_icmp_errors(_socket: &UdpSocket, _ipv4: bool) {}

async fn over_tcp(
    server: SocketAddr,
    query: &[u8],
    question: &Question<'_>,
    until: Instant,
) -> Result<Message, Fault> {
    let started = Instant::now();
    let timed_out = |what: &str| {
        Fault::new(
            Answer::Timeout,
            format!("{what} {server} within {} ms", waited(started)),
        )
    };
    let mut stream = match timeout_at(until, TcpStream::connect(server)).await {
        Err(_) => return Err(timed_out("no TCP connection to")),
        Ok(Err(error)) => return Err(io_fault(server, &error, "TCP")),
        Ok(Ok(stream)) => stream,
    };
    let length = u16::try_from(query.len())
        .map_err(|_| Fault::new(Answer::Error, "the query is too long for TCP"))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(query);
    match timeout_at(until, stream.write_all(&framed)).await {
        Err(_) => return Err(timed_out("could not send the query to")),
        Ok(Err(error)) => return Err(io_fault(server, &error, "TCP")),
        Ok(Ok(())) => {}
    }
    let mut prefix = [0u8; 2];
    let mut got = 0;
    while got < prefix.len() {
        match timeout_at(until, stream.read(&mut prefix[got..])).await {
            Err(_) => return Err(timed_out("no answer over TCP from")),
            Ok(Err(error)) => return Err(io_fault(server, &error, "TCP")),
            Ok(Ok(0)) if got == 0 => {
                return Err(Fault::new(
                    Answer::Error,
                    format!("{server} closed the TCP connection without a reply"),
                ))
            }
            Ok(Ok(0)) => {
                return Err(Fault::new(
                    Answer::Short,
                    format!("{server} sent one byte over TCP and closed the connection"),
                ))
            }
            Ok(Ok(read)) => got += read,
        }
    }
    let announced = usize::from(u16::from_be_bytes(prefix));
    let mut message = vec![0u8; announced];
    let mut filled = 0;
    while filled < announced {
        match timeout_at(until, stream.read(&mut message[filled..])).await {
            Err(_) => return Err(timed_out("the rest of the TCP reply did not come from")),
            Ok(Err(error)) => return Err(io_fault(server, &error, "TCP")),
            Ok(Ok(0)) => {
                return Err(Fault::new(
                    Answer::BadLength,
                    format!(
                        "{server} announced a {announced}-byte reply over TCP and closed the connection after {filled} bytes"
                    ),
                ))
            }
            Ok(Ok(read)) => filled += read,
        }
    }
    // A TCP connection carries this one exchange: whatever comes back is the answer.
    match read_reply(&message, question, server, "TCP") {
        Reading::Reply(message) => Ok(message),
        Reading::Broken(fault) | Reading::Stray(fault) => Err(fault),
        Reading::Truncated => Err(Fault::new(
            Answer::Truncated,
            format!("{server} truncated its reply over TCP too"),
        )),
    }
}
