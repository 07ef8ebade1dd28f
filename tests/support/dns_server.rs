//! An authoritative DNS server for `cluster.local` on 127.0.0.1, in process, on a real
//! UDP socket: it serves A/AAAA/CNAME records with an SOA in negative answers, and
//! per-name faults (NXDOMAIN, SERVFAIL, NODATA, no answer at all). Messages are encoded
//! and decoded with hickory-proto; a hand-written responder can produce the faults a
//! correct server never would (SERVFAIL, silence), which is why it is not a catalog.

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The zone every name lives in.
pub const ZONE: &str = "cluster.local.";
/// The Service name the tests resolve.
pub const NATS_FQDN: &str = "nats-server.nats.svc.cluster.local.";

/// How the server answers a name.
#[derive(Clone, Debug)]
pub enum Answer {
    Addresses(Vec<IpAddr>),
    Cname(String),
    NxDomain,
    ServFail,
    /// The name exists with no record of the asked type.
    NoData,
    /// No response at all: the resolver times out.
    Ignore,
}

/// The DNS server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    names: Arc<Mutex<HashMap<String, Answer>>>,
    stop: Arc<AtomicBool>,
    queries: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// A server with `nats-server.nats.svc.cluster.local` → 127.0.0.1; every name not
    /// added is NXDOMAIN.
    pub fn start() -> DnsServer {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind DNS socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("socket timeout");
        let addr = socket.local_addr().expect("DNS address");
        let names = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (names, stop, queries, log) =
                (names.clone(), stop.clone(), queries.clone(), log.clone());
            std::thread::spawn(move || serve(socket, names, stop, queries, log))
        };
        let server = DnsServer {
            addr,
            names,
            stop,
            queries,
            log,
            thread: Some(thread),
        };
        server.set(
            NATS_FQDN,
            Answer::Addresses(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]),
        );
        server
    }

    /// Sets how `name` (absolute, trailing dot) is answered.
    pub fn set(&self, name: &str, answer: Answer) {
        self.names
            .lock()
            .expect("names lock")
            .insert(name.to_ascii_lowercase(), answer);
    }

    /// How many queries were received.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// The names asked, in order, as `name TYPE`.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// `--nameserver` value.
    pub fn nameserver(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    socket: UdpSocket,
    names: Arc<Mutex<HashMap<String, Answer>>>,
    stop: Arc<AtomicBool>,
    queries: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
) {
    let mut buffer = [0u8; 4096];
    // Bounded by the stop flag, checked every 50 ms read timeout.
    while !stop.load(Ordering::SeqCst) {
        let Ok((length, peer)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let Ok(request) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        queries.fetch_add(1, Ordering::SeqCst);
        let Some(query) = request.queries.first().cloned() else {
            continue;
        };
        let name = query.name().to_ascii().to_ascii_lowercase();
        log.lock()
            .expect("log lock")
            .push(format!("{name} {}", query.query_type()));
        let answer = names.lock().expect("names lock").get(&name).cloned();
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata.message_type = MessageType::Response;
        response.metadata.authoritative = true;
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.add_query(query.clone());
        match answer.unwrap_or(Answer::NxDomain) {
            Answer::Ignore => continue,
            Answer::ServFail => {
                response.metadata.authoritative = false;
                response.metadata.response_code = ResponseCode::ServFail;
            }
            Answer::NxDomain => {
                response.metadata.response_code = ResponseCode::NXDomain;
                response.add_authority(soa());
            }
            Answer::NoData => {
                response.add_authority(soa());
            }
            Answer::Cname(target) => {
                let owner = query.name().clone();
                let target_name = Name::from_ascii(&target).expect("CNAME target");
                response.add_answer(Record::from_rdata(
                    owner,
                    30,
                    RData::CNAME(CNAME(target_name)),
                ));
                let resolved = names
                    .lock()
                    .expect("names lock")
                    .get(&target.to_ascii_lowercase())
                    .cloned();
                if let Some(Answer::Addresses(addresses)) = resolved {
                    let target_name = Name::from_ascii(&target).expect("CNAME target");
                    add_addresses(&mut response, &target_name, query.query_type(), &addresses);
                }
            }
            Answer::Addresses(addresses) => {
                let added =
                    add_addresses(&mut response, query.name(), query.query_type(), &addresses);
                if added == 0 {
                    response.add_authority(soa());
                }
            }
        }
        if let Ok(bytes) = response.to_vec() {
            let _ = socket.send_to(&bytes, peer);
        }
    }
}

fn add_addresses(
    response: &mut Message,
    name: &Name,
    kind: RecordType,
    addresses: &[IpAddr],
) -> usize {
    let mut added = 0;
    for address in addresses {
        let rdata = match (address, kind) {
            (IpAddr::V4(v4), RecordType::A) => RData::A(A(*v4)),
            (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(*v6)),
            _ => continue,
        };
        response.add_answer(Record::from_rdata(name.clone(), 30, rdata));
        added += 1;
    }
    added
}

fn soa() -> Record {
    let zone = Name::from_ascii(ZONE).expect("zone name");
    let soa = SOA::new(
        Name::from_ascii("ns.dns.cluster.local.").expect("mname"),
        Name::from_ascii("hostmaster.cluster.local.").expect("rname"),
        1,
        7200,
        1800,
        86400,
        30,
    );
    Record::from_rdata(zone, 30, RData::SOA(soa))
}

/// Writes a pod's resolv.conf pointing at `nameserver` (port included: hickory reads
/// only addresses, so tests also pass `--nameserver`).
pub fn pod_resolv_conf(dir: &std::path::Path, namespace: &str) -> std::path::PathBuf {
    let path = dir.join("resolv.conf");
    std::fs::write(
        &path,
        format!(
            "nameserver 127.0.0.1\nsearch {namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n"
        ),
    )
    .expect("write resolv.conf");
    path
}
