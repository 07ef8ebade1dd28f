//! A real DNS server for the tests: hickory-server, in process, on a UDP socket on
//! 127.0.0.1 (or on UDP and TCP sockets bound in a network namespace). The `cluster.local` zone (with its SOA) is an authoritative in-memory zone
//! serving `nats-server.nats.svc.cluster.local` → 127.0.0.1; names can be added (A/AAAA,
//! CNAME, a name with no address = NODATA), everything else is NXDOMAIN with the SOA.
//! A correct server never answers SERVFAIL or stays silent on purpose, so a small
//! request handler in front of the catalog does that for the names told to.

use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{
    AxfrPolicy, Catalog, MessageResponseBuilder, ZoneHandler, ZoneType,
};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The zone every name lives in.
pub const ZONE: &str = "cluster.local.";
/// The Service name the tests resolve.
pub const NATS_FQDN: &str = "nats-server.nats.svc.cluster.local.";

/// How the server answers a name.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A/AAAA records in the zone.
    Addresses(Vec<IpAddr>),
    /// A CNAME record in the zone.
    Cname(String),
    /// Nothing added: the zone answers NXDOMAIN (the default for every name).
    NxDomain,
    /// The name exists (a TXT record) with no A/AAAA record.
    NoData,
    /// The handler answers SERVFAIL.
    ServFail,
    /// The handler sends nothing: the resolver times out.
    Ignore,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    ServFail,
    Ignore,
}

struct Handler {
    catalog: Catalog,
    faults: Arc<Mutex<HashMap<String, Fault>>>,
    queries: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::SeqCst);
        let (name, kind) = match request.queries.queries().first() {
            Some(query) => (
                query.name().to_string().to_ascii_lowercase(),
                query.query_type().to_string(),
            ),
            None => (String::new(), String::new()),
        };
        self.log
            .lock()
            .expect("log lock")
            .push(format!("{name} {kind}"));
        let fault = self.faults.lock().expect("faults lock").get(&name).copied();
        match fault {
            None => {
                self.catalog
                    .handle_request::<R, T>(request, response_handle)
                    .await
            }
            Some(Fault::Ignore) => ResponseInfo::from(Header {
                metadata: Metadata::response_from_request(&request.metadata),
                counts: HeaderCounts::default(),
            }),
            Some(Fault::ServFail) => {
                let response = MessageResponseBuilder::new(&request.queries, None)
                    .error_msg(&request.metadata, ResponseCode::ServFail);
                match response_handle.send_response(response).await {
                    Ok(info) => info,
                    Err(_) => ResponseInfo::from(Header {
                        metadata: Metadata::response_from_request(&request.metadata),
                        counts: HeaderCounts::default(),
                    }),
                }
            }
        }
    }
}

/// The DNS server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    zone: Arc<InMemoryZoneHandler>,
    faults: Arc<Mutex<HashMap<String, Fault>>>,
    queries: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
    serial: AtomicU32,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a DNS name")
}

fn soa_record(origin: &str) -> Record {
    let soa = SOA::new(
        name("ns.dns.cluster.local."),
        name("hostmaster.cluster.local."),
        1,
        7200,
        1800,
        86400,
        30,
    );
    Record::from_rdata(name(origin), 30, RData::SOA(soa))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

impl DnsServer {
    /// A server on a free UDP port of 127.0.0.1 with `nats-server.nats.svc.cluster.local`
    /// → 127.0.0.1; every name not added is NXDOMAIN.
    pub fn start() -> DnsServer {
        let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind DNS socket");
        let server = DnsServer::start_on(socket, None);
        server.set(
            NATS_FQDN,
            Answer::Addresses(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]),
        );
        server
    }

    /// A server on sockets the test bound (in a network namespace, say), over TCP too
    /// when a listener is given; no name is added.
    pub fn start_on(socket: std::net::UdpSocket, tcp: Option<std::net::TcpListener>) -> DnsServer {
        let mut zone: InMemoryZoneHandler =
            InMemoryZoneHandler::empty(name(ZONE), ZoneType::Primary, AxfrPolicy::Deny);
        zone.upsert_mut(soa_record(ZONE), 1);
        let zone = Arc::new(zone);
        // The root zone makes names outside cluster.local NXDOMAIN rather than REFUSED,
        // as a cluster DNS forwarding them would.
        let mut root: InMemoryZoneHandler =
            InMemoryZoneHandler::empty(Name::root(), ZoneType::Primary, AxfrPolicy::Deny);
        root.upsert_mut(soa_record("."), 1);
        let mut catalog = Catalog::new();
        catalog.upsert(
            LowerName::from(name(ZONE)),
            vec![zone.clone() as Arc<dyn ZoneHandler>],
        );
        catalog.upsert(
            LowerName::from(Name::root()),
            vec![Arc::new(root) as Arc<dyn ZoneHandler>],
        );

        let faults = Arc::new(Mutex::new(HashMap::new()));
        let queries = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler = Handler {
            catalog,
            faults: faults.clone(),
            queries: queries.clone(),
            log: log.clone(),
        };
        socket.set_nonblocking(true).expect("non-blocking socket");
        if let Some(listener) = &tcp {
            listener
                .set_nonblocking(true)
                .expect("non-blocking listener");
        }
        let addr = socket.local_addr().expect("DNS address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            runtime().block_on(async move {
                let socket = tokio::net::UdpSocket::from_std(socket).expect("tokio socket");
                let mut server = hickory_server::Server::new(handler);
                server.register_socket(socket);
                if let Some(listener) = tcp {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    server.register_listener(listener, std::time::Duration::from_secs(2), 65_535);
                }
                let _ = ready.send(());
                let _ = stopped.await;
                let _ = server.shutdown_gracefully().await;
            });
        });
        is_ready.recv().expect("DNS server started");
        DnsServer {
            addr,
            zone,
            faults,
            queries,
            log,
            serial: AtomicU32::new(2),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Sets how `name` (absolute, trailing dot) is answered.
    pub fn set(&self, owner: &str, answer: Answer) {
        let owner = owner.to_ascii_lowercase();
        let records: Vec<Record> = match &answer {
            Answer::Addresses(addresses) => addresses
                .iter()
                .map(|address| {
                    let rdata = match address {
                        IpAddr::V4(v4) => RData::A(A(*v4)),
                        IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                    };
                    Record::from_rdata(name(&owner), 30, rdata)
                })
                .collect(),
            Answer::Cname(target) => vec![Record::from_rdata(
                name(&owner),
                30,
                RData::CNAME(CNAME(name(target))),
            )],
            Answer::NoData => vec![Record::from_rdata(
                name(&owner),
                30,
                RData::TXT(TXT::new(vec!["no address here".to_string()])),
            )],
            Answer::NxDomain | Answer::ServFail | Answer::Ignore => Vec::new(),
        };
        {
            let mut faults = self.faults.lock().expect("faults lock");
            match answer {
                Answer::ServFail => faults.insert(owner.clone(), Fault::ServFail),
                Answer::Ignore => faults.insert(owner.clone(), Fault::Ignore),
                _ => faults.remove(&owner),
            };
        }
        if !records.is_empty() {
            let zone = self.zone.clone();
            let serial = self.serial.fetch_add(1, Ordering::SeqCst);
            runtime().block_on(async move {
                for record in records {
                    zone.upsert(record, serial).await;
                }
            });
        }
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes a pod's resolv.conf (the nameserver's port is not expressible there, so tests
/// also pass `--nameserver`).
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
