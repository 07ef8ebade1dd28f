//! TLS for NATS connections (rustls, with ring): the root certificates from `--tls-ca`,
//! or the system store when none is given (as the reference clients do), the client
//! certificate and key for mutual TLS, and the handshake under a deadline.
//!
//! The files given on the command line are read (through `crate::files`) and parsed
//! when the settings are read, so that a bad file is a settings error; the system store
//! is loaded only when a connection needs TLS.

use super::error::{Failure, FailureKind};
use crate::natsurl::Host;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// TLS files given on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    pub fn any(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some()
    }
}

/// PEM files of certificates and keys are a few kilobytes; a CA bundle a few hundred.
const PEM_FILE_LIMIT: u64 = 4 * 1024 * 1024;

/// Why a TLS file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    #[error("cannot read {what} {path}: {message}")]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("{what} {path}: {message}")]
    Invalid {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
}

/// The TLS settings of a command, shared by all its connections.
pub struct TlsConfig {
    roots: Option<Vec<CertificateDer<'static>>>,
    client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    built: OnceLock<Result<Arc<ClientConfig>, Failure>>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_certificates", &self.roots.as_ref().map(Vec::len))
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl TlsConfig {
    /// Reads and parses the files given on the command line.
    pub fn load(files: &TlsFiles) -> Result<TlsConfig, TlsFileError> {
        let roots = match &files.ca {
            Some(path) => Some(certificates("--tls-ca", path)?),
            None => None,
        };
        let client = match (&files.cert, &files.key) {
            (Some(cert), Some(key)) => {
                let chain = certificates("--tls-cert", cert)?;
                let bytes = read("--tls-key", key)?;
                let private = PrivateKeyDer::from_pem_slice(&bytes).map_err(|error| {
                    TlsFileError::Invalid {
                        what: "--tls-key",
                        path: key.clone(),
                        message: format!("no private key in it ({error})"),
                    }
                })?;
                Some((chain, private))
            }
            _ => None,
        };
        Ok(TlsConfig {
            roots,
            client,
            built: OnceLock::new(),
        })
    }

    /// The rustls configuration, built on first use.
    fn client_config(&self) -> Result<Arc<ClientConfig>, Failure> {
        self.built.get_or_init(|| self.build()).clone()
    }

    fn build(&self) -> Result<Arc<ClientConfig>, Failure> {
        let mut store = RootCertStore::empty();
        match &self.roots {
            Some(roots) => {
                for root in roots {
                    store.add(root.clone()).map_err(|error| {
                        Failure::settings(format!(
                            "TLS: a --tls-ca certificate is not usable: {error}"
                        ))
                    })?;
                }
            }
            None => {
                let system = rustls_native_certs::load_native_certs();
                let (added, _) = store.add_parsable_certificates(system.certs);
                if added == 0 {
                    return Err(Failure::settings(
                        "TLS: the system has no root certificates; pass the server's CA with --tls-ca",
                    ));
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Failure::settings(format!("TLS: {error}")))?
            .with_root_certificates(store);
        let config = match &self.client {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|error| {
                    Failure::settings(format!(
                        "TLS: --tls-cert and --tls-key cannot be used together: {error}"
                    ))
                })?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    crate::files::read(path, PEM_FILE_LIMIT).map_err(|error| TlsFileError::Unreadable {
        what,
        path: path.to_path_buf(),
        message: std::io::Error::from(error).to_string(),
    })
}

fn certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let bytes = read(what, path)?;
    let invalid = |message: String| TlsFileError::Invalid {
        what,
        path: path.to_path_buf(),
        message,
    };
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("not PEM certificates ({error})")))?;
    if certificates.is_empty() {
        return Err(invalid("no certificate in it".to_string()));
    }
    Ok(certificates)
}

/// The TLS handshake on `stream`, verifying the certificate against `host` (the host of
/// the URL, also when the address it resolved to is dialled).
pub async fn handshake(
    stream: TcpStream,
    host: &Host,
    config: &TlsConfig,
    deadline: Instant,
) -> Result<TlsStream<TcpStream>, Failure> {
    let client_config = config.client_config()?;
    let name = match host {
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        Host::Name { name, .. } => ServerName::try_from(name.clone()).map_err(|_| {
            Failure::settings(format!("TLS: {name} is not a name a certificate can hold"))
        })?,
    };
    let connector = tokio_rustls::TlsConnector::from(client_config);
    match tokio::time::timeout_at(deadline, connector.connect(name, stream)).await {
        Err(_) => Err(Failure::new(
            FailureKind::TimedOut,
            "the TLS handshake did not finish within the time limit",
        )),
        Ok(Err(error)) => Err(Failure::io(&error)),
        Ok(Ok(stream)) => Ok(stream),
    }
}
