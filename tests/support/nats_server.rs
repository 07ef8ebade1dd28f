//! Starts real `nats-server` processes on 127.0.0.1, each with the configuration a test
//! needs, and kills them on drop. The server picks its own ports (`-1`) and writes them
//! to its ports file (`ports_file_dir`), which is read once it appears: the ports are
//! never chosen by the test and released before the server binds them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start and write its ports file.
const START_LIMIT: Duration = Duration::from_secs(10);

/// The token of `Auth::Token` servers.
pub const TOKEN: &str = "s3cr3t-token-value";
/// User and password of `Auth::UserPassword` servers.
pub const USER: &str = "extractor";
pub const PASSWORD: &str = "pa55-w0rd-secret";
/// A user of `Auth::PublishDenied` servers that may not publish to `_nats_doctor.>`.
pub const LIMITED_USER: &str = "limited";
pub const LIMITED_PASSWORD: &str = "limited-secret";

/// What the server asks of its clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    Token,
    UserPassword,
    /// `LIMITED_USER` may subscribe anywhere but not publish to `_nats_doctor.>`.
    PublishDenied,
    /// `LIMITED_USER` may publish anywhere but not subscribe to `_nats_doctor.>`.
    SubscribeDenied,
    /// One nkey user, whose public key is given.
    Nkey(String),
}

/// Server options for one test.
#[derive(Clone, Debug)]
pub struct Options {
    pub auth: Auth,
    /// Require TLS with a certificate for localhost / 127.0.0.1 / the test Service names.
    pub tls: bool,
    /// Also require a client certificate signed by the test CA (mutual TLS).
    pub tls_verify: bool,
    /// Also serve HTTP monitoring, on a port of its choosing.
    pub monitoring: bool,
    /// Also listen for routes (`cluster`), on a port of its choosing.
    pub cluster: bool,
    /// Extra lines for the configuration file.
    pub extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth: Auth::None,
            tls: false,
            tls_verify: false,
            monitoring: false,
            cluster: false,
            extra: String::new(),
        }
    }
}

/// Certificates written for a TLS server.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A client certificate and key signed by the same CA.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// A running `nats-server`; killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub monitoring_port: Option<u16>,
    pub route_port: Option<u16>,
    pub tls: Option<TlsFiles>,
    dir: tempfile::TempDir,
    /// The configuration without the listen lines, which `start` and `restart` add.
    config: String,
}

/// The ports a server reported in its ports file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ports {
    client: u16,
    monitoring: Option<u16>,
    route: Option<u16>,
}

impl NatsServer {
    /// A server with no auth and no TLS.
    pub fn plain() -> NatsServer {
        NatsServer::start(Options::default())
    }

    pub fn with_auth(auth: Auth) -> NatsServer {
        NatsServer::start(Options {
            auth,
            ..Options::default()
        })
    }

    pub fn start(options: Options) -> NatsServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = format!("ports_file_dir: \"{}\"\n", dir.path().display());
        config.push_str(&match &options.auth {
            Auth::None => String::new(),
            Auth::Token => format!("authorization {{ token: \"{TOKEN}\" }}\n"),
            Auth::Nkey(public) => format!("authorization {{ users = [ {{ nkey: \"{public}\" }} ] }}\n"),
            Auth::UserPassword => format!(
                "authorization {{ users = [ {{ user: \"{USER}\", password: \"{PASSWORD}\" }} ] }}\n"
            ),
            Auth::PublishDenied => format!(
                "authorization {{ users = [ {{ user: \"{LIMITED_USER}\", password: \"{LIMITED_PASSWORD}\", \
                 permissions: {{ publish: {{ deny: [\"_nats_doctor.>\"] }} }} }} ] }}\n"
            ),
            Auth::SubscribeDenied => format!(
                "authorization {{ users = [ {{ user: \"{LIMITED_USER}\", password: \"{LIMITED_PASSWORD}\", \
                 permissions: {{ subscribe: {{ deny: [\"_nats_doctor.>\"] }} }} }} ] }}\n"
            ),
        });
        let tls = options.tls.then(|| write_certificates(dir.path()));
        if let Some(files) = &tls {
            config.push_str(&format!(
                "tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", timeout: 2, verify: {} }}\n",
                files.cert.display(),
                files.key.display(),
                files.ca.display(),
                options.tls_verify
            ));
        }
        config.push_str(&options.extra);
        let wanted = Ports {
            client: 0,
            monitoring: options.monitoring.then_some(0),
            route: options.cluster.then_some(0),
        };
        let mut server = NatsServer {
            child: None,
            port: 0,
            monitoring_port: None,
            route_port: None,
            tls,
            dir,
            config,
        };
        let (child, ports) = server
            .launch(wanted)
            .unwrap_or_else(|log| panic!("nats-server did not start:\n{log}"));
        server.child = Some(child);
        server.port = ports.client;
        server.monitoring_port = ports.monitoring;
        server.route_port = ports.route;
        server
    }

    /// Writes the configuration with these ports (0: the server picks one) and starts
    /// the server; waits for its ports file. Err holds its log when it exits first.
    fn launch(&self, ports: Ports) -> Result<(Child, Ports), String> {
        let binary = which_nats_server();
        let port = |port: u16| {
            if port == 0 {
                "-1".to_string()
            } else {
                port.to_string()
            }
        };
        let mut config = format!("listen: 127.0.0.1:{}\n", port(ports.client));
        if let Some(http) = ports.monitoring {
            config.push_str(&format!("http: 127.0.0.1:{}\n", port(http)));
        }
        if let Some(route) = ports.route {
            config.push_str(&format!(
                "cluster {{ name: doctor, listen: 127.0.0.1:{} }}\n",
                port(route)
            ));
        }
        config.push_str(&self.config);
        let config_path = self.dir.path().join("nats-server.conf");
        std::fs::File::create(&config_path)
            .and_then(|mut file| file.write_all(config.as_bytes()))
            .expect("write nats-server.conf");
        let log_path = self.dir.path().join("nats-server.log");
        let log = std::fs::File::create(&log_path).expect("create nats-server.log");
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        let ports_file = self
            .dir
            .path()
            .join(format!("nats-server_{}.ports", child.id()));
        let deadline = Instant::now() + START_LIMIT;
        // Bounded: until the deadline. The ports file is written once every listener is
        // bound; the pause between looks is the polling interval of a file's appearance.
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(reported) = read_ports(&ports_file) {
                return Ok((child, reported));
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("nats-server exited ({status}):\n{log}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("no ports file within {START_LIMIT:?}:\n{log}"));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's `/varz` monitoring document (needs `monitoring`).
    pub fn varz(&self) -> serde_json::Value {
        use std::io::Read;
        let port = self.monitoring_port.expect("a server with monitoring");
        let mut stream =
            std::net::TcpStream::connect(super::loopback(port)).expect("connect to monitoring");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        stream
            .write_all(b"GET /varz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("write the request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read /varz");
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        serde_json::from_str(body).unwrap_or_else(|error| panic!("/varz ({error}): {response}"))
    }

    /// Waits (bounded) until the server has delivered at least `count` messages to
    /// subscribers: a client's traffic is flowing (needs `monitoring`).
    pub fn wait_for_delivered(&self, count: u64) {
        super::listener::wait_until(
            &format!("{count} messages delivered by nats-server"),
            START_LIMIT,
            || self.varz()["out_msgs"].as_u64().unwrap_or(0) >= count,
        );
    }

    /// Kills the process now (for faults in the middle of a test).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the process and starts it again with the same configuration on the same
    /// ports (a server restart under a client). The port is free again as soon as the
    /// process is gone (nats-server binds with SO_REUSEADDR, so no TIME_WAIT holds it);
    /// should another process have taken it meanwhile, the start is retried, bounded.
    pub fn restart(&mut self) {
        self.kill();
        let ports = Ports {
            client: self.port,
            monitoring: self.monitoring_port,
            route: self.route_port,
        };
        let deadline = Instant::now() + START_LIMIT;
        // Bounded: until the deadline.
        loop {
            match self.launch(ports) {
                Ok((child, reported)) => {
                    assert_eq!(reported, ports, "nats-server restarted on other ports");
                    self.child = Some(child);
                    return;
                }
                Err(log) if Instant::now() > deadline => {
                    panic!("nats-server did not restart on port {}:\n{log}", self.port)
                }
                Err(_) => {}
            }
        }
    }
}

/// The ports in a ports file, once it is there and complete.
fn read_ports(path: &Path) -> Option<Ports> {
    let text = std::fs::read_to_string(path).ok()?;
    let ports: serde_json::Value = serde_json::from_str(&text).ok()?;
    let first = |key: &str| -> Option<u16> {
        let url = ports[key].as_array()?.first()?.as_str()?;
        url.rsplit(':').next()?.trim_end_matches('/').parse().ok()
    };
    Some(Ports {
        client: first("nats")?,
        monitoring: first("monitoring"),
        route: first("cluster"),
    })
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `nats-server` binary; a test without it fails with instructions.
pub fn which_nats_server() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/sbin")]) {
        let candidate = dir.join("nats-server");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("nats-server is not on PATH; install it: apt-get install nats-server");
}

/// A CA and a server certificate for localhost, 127.0.0.1 and the test Service names,
/// generated for this test.
fn write_certificates(dir: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "nats-server.nats.svc.cluster.local".to_string(),
    ])
    .expect("server parameters")
    .signed_by(&key, &ca)
    .expect("server certificate");
    let client_key = KeyPair::generate().expect("client key");
    let client_cert = CertificateParams::new(vec!["nats-doctor-client".to_string()])
        .expect("client parameters")
        .signed_by(&client_key, &ca)
        .expect("client certificate");
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client-key.pem"),
    };
    std::fs::write(&files.client_cert, client_cert.pem()).expect("write client.pem");
    std::fs::write(&files.client_key, client_key.serialize_pem()).expect("write client-key.pem");
    std::fs::write(&files.ca, ca.pem()).expect("write ca.pem");
    std::fs::write(&files.cert, cert.pem()).expect("write server.pem");
    std::fs::write(&files.key, key.serialize_pem()).expect("write server-key.pem");
    files
}
