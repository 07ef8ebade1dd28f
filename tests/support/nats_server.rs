//! Starts real `nats-server` processes on free 127.0.0.1 ports, each with the
//! configuration a test needs, and kills them on drop.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
    /// Also serve HTTP monitoring on another free port.
    pub monitoring: bool,
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
    pub tls: Option<TlsFiles>,
    dir: tempfile::TempDir,
    config_path: PathBuf,
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
        let binary = which_nats_server();
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = super::free_port();
        let mut config = format!("listen: 127.0.0.1:{port}\n");
        let monitoring_port = options.monitoring.then(super::free_port);
        if let Some(http) = monitoring_port {
            config.push_str(&format!("http: 127.0.0.1:{http}\n"));
        }
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
        let config_path = dir.path().join("nats-server.conf");
        std::fs::File::create(&config_path)
            .and_then(|mut file| file.write_all(config.as_bytes()))
            .expect("write nats-server.conf");
        let child = spawn(&binary, &config_path);
        let server = NatsServer {
            child: Some(child),
            port,
            monitoring_port,
            tls,
            dir,
            config_path,
        };
        server.wait_until_listening();
        server
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the process now (for faults in the middle of a test).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the process and starts it again with the same configuration, so on the
    /// same port (a server restart under a client).
    pub fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn(&which_nats_server(), &self.config_path));
        self.wait_until_listening();
    }

    fn wait_until_listening(&self) {
        // Bounded: 5 seconds in 10 ms steps.
        for _ in 0..500 {
            let addr = super::loopback(self.port);
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                if let Some(http) = self.monitoring_port {
                    let addr = super::loopback(http);
                    if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "nats-server did not listen on 127.0.0.1:{} within 5s",
            self.port
        );
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(binary: &Path, config: &Path) -> Child {
    Command::new(binary)
        .arg("-c")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server")
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
