//! A DNS responder that sends exactly the bytes a test wants, for the answers no correct
//! server gives: short, truncated, looping, with a bad length, another id or another
//! name. A real UDP socket (and, when asked, a TCP listener on the same port) on
//! 127.0.0.1, or sockets the test bound elsewhere (in a network namespace). Each query
//! is decoded with hickory-proto and handed to the test's function, which returns the
//! bytes to send back; `Reply` builds the usual ones.

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The transport a query came over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// A query as received.
#[derive(Clone, Debug)]
pub struct Asked {
    pub transport: Transport,
    pub id: u16,
    /// Lower case, with the trailing dot.
    pub name: String,
    pub kind: RecordType,
    pub query: Query,
}

/// What to send back: over UDP, each item is one datagram (none: silence); over TCP,
/// the items are written as they are, so a test frames them itself (`framed`), or
/// does not. An empty list over TCP closes the connection.
pub type Response = Vec<Vec<u8>>;

type Script = dyn Fn(&Asked) -> Response + Send + Sync;

/// How long a responder lives at most, should a test forget to drop it.
const LIFETIME: Duration = Duration::from_secs(60);

/// The responder; stops when dropped.
pub struct RawDns {
    pub addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl RawDns {
    /// On a free UDP port of 127.0.0.1; with `tcp`, a TCP listener on the same port
    /// (without, the port refuses TCP connections).
    pub fn start(tcp: bool, script: impl Fn(&Asked) -> Response + Send + Sync + 'static) -> RawDns {
        // Bounded: a few tries for a port free over both transports.
        for _ in 0..20 {
            let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind UDP");
            let addr = udp.local_addr().expect("UDP address");
            if !tcp {
                return RawDns::on(udp, None, script);
            }
            if let Ok(listener) = TcpListener::bind(addr) {
                return RawDns::on(udp, Some(listener), script);
            }
        }
        panic!("no port of 127.0.0.1 was free over both UDP and TCP");
    }

    /// On sockets the test bound (for example inside a network namespace).
    pub fn on(
        udp: UdpSocket,
        tcp: Option<TcpListener>,
        script: impl Fn(&Asked) -> Response + Send + Sync + 'static,
    ) -> RawDns {
        let addr = udp.local_addr().expect("UDP address");
        let script: Arc<Script> = Arc::new(script);
        let queries = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let (script, queries, stop) = (script.clone(), queries.clone(), stop.clone());
            udp.set_read_timeout(Some(Duration::from_millis(20)))
                .expect("read timeout");
            threads.push(std::thread::spawn(move || {
                serve_udp(&udp, &*script, &queries, &stop)
            }));
        }
        if let Some(listener) = tcp {
            let (script, queries, stop) = (script.clone(), queries.clone(), stop.clone());
            listener
                .set_nonblocking(true)
                .expect("non-blocking listener");
            threads.push(std::thread::spawn(move || {
                serve_tcp(&listener, &*script, &queries, &stop)
            }));
        }
        RawDns {
            addr,
            queries,
            stop,
            threads,
        }
    }

    /// `--nameserver` value.
    pub fn nameserver(&self) -> String {
        self.addr.to_string()
    }

    /// Queries received over both transports.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for RawDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn decode(bytes: &[u8], transport: Transport) -> Option<Asked> {
    let message = Message::from_vec(bytes).ok()?;
    let query = message.queries.first()?.clone();
    Some(Asked {
        transport,
        id: message.metadata.id,
        name: query.name().to_string().to_ascii_lowercase(),
        kind: query.query_type(),
        query,
    })
}

fn serve_udp(socket: &UdpSocket, script: &Script, queries: &AtomicUsize, stop: &AtomicBool) {
    let until = Instant::now() + LIFETIME;
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        let Ok((length, peer)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let Some(asked) = decode(&buffer[..length], Transport::Udp) else {
            continue;
        };
        queries.fetch_add(1, Ordering::SeqCst);
        for datagram in script(&asked) {
            let _ = socket.send_to(&datagram, peer);
        }
    }
}

fn serve_tcp(listener: &TcpListener, script: &Script, queries: &AtomicUsize, stop: &AtomicBool) {
    let until = Instant::now() + LIFETIME;
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        // Waits on the listener, 20 ms at a time, so that the stop flag is seen (as the
        // UDP socket's read timeout does).
        let woken = Instant::now() + Duration::from_millis(20);
        if !super::listener::readable(listener.as_raw_fd(), None, woken) {
            continue;
        }
        let Ok((mut stream, _)) = listener.accept() else {
            continue;
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut prefix = [0u8; 2];
        if stream.read_exact(&mut prefix).is_err() {
            continue;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        if stream.read_exact(&mut query).is_err() {
            continue;
        }
        let Some(asked) = decode(&query, Transport::Tcp) else {
            continue;
        };
        queries.fetch_add(1, Ordering::SeqCst);
        for chunk in script(&asked) {
            let _ = stream.write_all(&chunk);
        }
        // Dropping the stream closes it.
    }
}

/// A TCP message: the two-byte length, then the bytes.
pub fn framed(message: &[u8]) -> Vec<u8> {
    let mut framed = (message.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(message);
    framed
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a DNS name")
}

/// A reply to `asked`, built with hickory-proto and encoded.
pub struct Reply {
    message: Message,
}

impl Reply {
    /// NOERROR, the question copied, no records yet.
    pub fn to(asked: &Asked) -> Reply {
        let mut message = Message::new(asked.id, MessageType::Response, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.metadata.recursion_available = true;
        message.add_query(asked.query.clone());
        Reply { message }
    }

    pub fn code(mut self, code: ResponseCode) -> Reply {
        self.message.metadata.response_code = code;
        self
    }

    pub fn a(mut self, owner: &str, address: Ipv4Addr) -> Reply {
        self.message
            .answers
            .push(Record::from_rdata(name(owner), 30, RData::A(A(address))));
        self
    }

    pub fn cname(mut self, owner: &str, target: &str) -> Reply {
        self.message.answers.push(Record::from_rdata(
            name(owner),
            30,
            RData::CNAME(CNAME(name(target))),
        ));
        self
    }

    /// A question other than the one asked.
    pub fn question(mut self, owner: &str) -> Reply {
        self.message.queries = vec![Query::query(name(owner), RecordType::A)];
        self
    }

    pub fn id(mut self, id: u16) -> Reply {
        self.message.metadata.id = id;
        self
    }

    pub fn truncated(mut self) -> Reply {
        self.message.metadata.truncation = true;
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.message.to_vec().expect("encode a reply")
    }
}

/// A reply whose only answer record is named by a compression pointer to itself.
pub fn pointer_loop(asked: &Asked) -> Vec<u8> {
    let mut bytes = Reply::to(asked).bytes();
    // One answer in the header.
    bytes[6..8].copy_from_slice(&1u16.to_be_bytes());
    let at = bytes.len() as u16;
    bytes.extend_from_slice(&(0xC000 | at).to_be_bytes());
    // Type A, class IN, TTL 30, 4 bytes of address.
    bytes.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 203, 0, 113, 10]);
    bytes
}

/// A reply whose answer record announces 200 bytes of data and has 4.
pub fn bad_length(asked: &Asked) -> Vec<u8> {
    let mut bytes = Reply::to(asked).bytes();
    bytes[6..8].copy_from_slice(&1u16.to_be_bytes());
    // The owner: a pointer to the question's name, at offset 12.
    bytes.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 200, 203, 0, 113, 10]);
    bytes
}

/// A reply whose answer's owner name uses a label type that does not exist (0b10).
pub fn unknown_label_type(asked: &Asked) -> Vec<u8> {
    let mut bytes = Reply::to(asked).bytes();
    bytes[6..8].copy_from_slice(&1u16.to_be_bytes());
    bytes.extend_from_slice(&[0x80, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 203, 0, 113, 10]);
    bytes
}
