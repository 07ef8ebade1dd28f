//! A scripted NATS server side on a loopback port, for the fault tests: it speaks just
//! enough of the protocol to bring a client to a chosen point (INFO, the PONG after
//! CONNECT, the echo of a message to an exact subscription) and then sends what the
//! test asks for: a malformed operation, an endless line, or nothing at all. Everything
//! it does is bounded in time and size, and it stops when dropped.

use super::listener::Acceptor;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// No peer runs longer than this, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(60);

/// An INFO like nats-server's, with the given max_payload.
pub fn info(max_payload: usize) -> Vec<u8> {
    format!(
        "INFO {{\"server_id\":\"NHOSTILE\",\"server_name\":\"hostile\",\"version\":\"2.10.0\",\"proto\":1,\"headers\":true,\"max_payload\":{max_payload},\"host\":\"127.0.0.1\",\"port\":4222}}\r\n"
    )
    .into_bytes()
}

/// When the peer sends its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// As soon as the connection is accepted (instead of INFO when `info` is empty).
    Accepted,
    /// Instead of the PONG that answers the client's first PING (after CONNECT).
    Connect,
    /// After the client's first SUB.
    Subscribed,
    /// After the first message the peer echoed to an exact subscription (a client's
    /// probe that confirms its subscription).
    Echoed,
}

/// What the peer sends.
#[derive(Clone, Debug)]
pub enum Payload {
    /// These bytes; `{sid}` is replaced by the id of the client's first subscription.
    Bytes(Vec<u8>),
    /// `head`, then `filler` repeated up to `total` bytes, then `tail`, streamed in
    /// chunks (the peer never holds it all), for as long as the client reads.
    Stream {
        head: Vec<u8>,
        filler: u8,
        total: usize,
        tail: Vec<u8>,
    },
    /// Nothing: the peer falls silent (it still reads, and answers nothing more).
    Silence,
}

#[derive(Clone, Debug)]
pub struct Script {
    /// Sent first on every connection; empty for a peer that does not start.
    pub info: Vec<u8>,
    pub when: When,
    pub payload: Payload,
}

/// A running peer.
pub struct HostilePeer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    sent: Arc<AtomicU64>,
    acceptor: Option<Acceptor>,
}

/// The threads serving the connections; joined when the acceptor lets them go.
struct Connections(Vec<JoinHandle<()>>);

impl Drop for Connections {
    fn drop(&mut self) {
        for connection in self.0.drain(..) {
            let _ = connection.join();
        }
    }
}

impl HostilePeer {
    pub fn start(script: Script) -> HostilePeer {
        let listener = super::listener::bind_loopback();
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let acceptor = {
            let (stop, accepted, sent) = (stop.clone(), accepted.clone(), sent.clone());
            let until = Instant::now() + LIFETIME;
            let mut connections = Connections(Vec::new());
            Acceptor::start(listener, move |stream| {
                accepted.fetch_add(1, Ordering::Relaxed);
                let (script, stop, sent) = (script.clone(), stop.clone(), sent.clone());
                connections.0.push(std::thread::spawn(move || {
                    serve(stream, &script, &stop, &sent, until)
                }));
            })
        };
        HostilePeer {
            port,
            stop,
            accepted,
            sent,
            acceptor: Some(acceptor),
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Bytes of payload sent so far, over all connections.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        // The connections end at the flag; dropping the acceptor joins them.
        self.stop.store(true, Ordering::Relaxed);
        drop(self.acceptor.take());
    }
}

/// Silent listeners: accept and hold connections without a word (what a
/// protocol-sniffing proxy looks like to a server-first protocol).
pub fn silent() -> HostilePeer {
    HostilePeer::start(Script {
        info: Vec::new(),
        when: When::Accepted,
        payload: Payload::Silence,
    })
}

/// `bytes` with every `{sid}` replaced.
fn with_sid(bytes: &[u8], sid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(5).position(|window| window == b"{sid}") {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(sid.as_bytes());
        rest = &rest[at + 5..];
    }
    out.extend_from_slice(rest);
    out
}

/// One client connection, played by the script.
fn serve(
    mut stream: TcpStream,
    script: &Script,
    stop: &AtomicBool,
    sent: &AtomicU64,
    until: Instant,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if !script.info.is_empty() && stream.write_all(&script.info).is_err() {
        return;
    }
    let mut fired = false;
    let mut silent = false;
    let mut first_sid: Option<String> = None;
    let mut subscriptions: Vec<(String, String)> = Vec::new();
    let mut input: Vec<u8> = Vec::new();
    let fire = |stream: &mut TcpStream, sid: &Option<String>, silent: &mut bool| {
        let sid = sid.clone().unwrap_or_else(|| "1".to_string());
        match &script.payload {
            Payload::Bytes(bytes) => {
                let bytes = with_sid(bytes, &sid);
                if stream.write_all(&bytes).is_ok() {
                    sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
            }
            Payload::Stream {
                head,
                filler,
                total,
                tail,
            } => {
                let _ = stream.write_all(head);
                let chunk = vec![*filler; 64 * 1024];
                let mut left = *total;
                // Bounded by `total`, the write timeout and the stop flag.
                while left > 0 && !stop.load(Ordering::Relaxed) {
                    let part = left.min(chunk.len());
                    if stream.write_all(&chunk[..part]).is_err() {
                        return;
                    }
                    sent.fetch_add(part as u64, Ordering::Relaxed);
                    left -= part;
                }
                let _ = stream.write_all(tail);
            }
            Payload::Silence => *silent = true,
        }
    };
    if script.when == When::Accepted {
        fired = true;
        fire(&mut stream, &first_sid, &mut silent);
    }
    // Bounded: ends when the client closes, at the stop flag, or at `until`.
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        let mut chunk = [0u8; 16 * 1024];
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => input.extend_from_slice(&chunk[..read]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue
            }
            Err(_) => return,
        }
        // The client's operations, line by line; payloads of PUB and HPUB skipped.
        while let Some(end) = input.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&input[..end]).into_owned();
            let words: Vec<&str> = line.split_whitespace().collect();
            let verb = words
                .first()
                .map(|w| w.to_ascii_uppercase())
                .unwrap_or_default();
            let payload_size = match verb.as_str() {
                "PUB" | "HPUB" => words.last().and_then(|w| w.parse::<usize>().ok()),
                _ => None,
            };
            let needed = end + 2 + payload_size.map_or(0, |size| size + 2);
            if input.len() < needed {
                break;
            }
            let payload = payload_size.map(|size| input[end + 2..end + 2 + size].to_vec());
            input.drain(..needed);
            if silent {
                continue;
            }
            match verb.as_str() {
                "PING" if script.when == When::Connect && !fired => {
                    fired = true;
                    fire(&mut stream, &first_sid, &mut silent);
                }
                "PING" => {
                    let _ = stream.write_all(b"PONG\r\n");
                }
                "SUB" if words.len() >= 3 => {
                    let sid = words[words.len() - 1].to_string();
                    subscriptions.push((words[1].to_string(), sid.clone()));
                    if first_sid.is_none() {
                        first_sid = Some(sid);
                    }
                    if script.when == When::Subscribed && !fired {
                        fired = true;
                        fire(&mut stream, &first_sid, &mut silent);
                    }
                }
                "PUB" if words.len() >= 3 => {
                    let subject = words[1];
                    let payload = payload.unwrap_or_default();
                    if let Some((_, sid)) = subscriptions.iter().find(|(s, _)| s == subject) {
                        let mut echo =
                            format!("MSG {subject} {sid} {}\r\n", payload.len()).into_bytes();
                        echo.extend_from_slice(&payload);
                        echo.extend_from_slice(b"\r\n");
                        let _ = stream.write_all(&echo);
                        if script.when == When::Echoed && !fired {
                            fired = true;
                            fire(&mut stream, &first_sid, &mut silent);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
