//! The connection settings shared by `check`, `test-messaging` and `watch`, as objects:
//! the effective NATS_URL / NATS_ENABLED / NATS_SUBJECT_PREFIX with where each came
//! from ([`ServiceSettings`]), the credentials and TLS files, and the [`Dialer`] for one
//! server of the list ([`ConnectionSettings`]). The command edge builds them from the
//! command line and the environment (`crate::commands::settings`).
//!
//! Credentials for a server: flags, then the URL's userinfo (what the Python services
//! use), then the `NATS_*` variables of the nats tooling. The URL given to a dialer
//! never carries the userinfo: the credentials go into CONNECT only.

use crate::nats::auth::{Auth, CredentialsError, Secret};
use crate::nats::connect::Dialer;
use crate::nats::tls::{TlsConfig, TlsFileError, TlsFiles};
use crate::natsurl::{self, Credentials, Entry, ServerUrl};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where an effective value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    EnvFile(PathBuf),
    Env,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::EnvFile(path) => write!(f, "env file {}", path.display()),
            Source::Env => f.write_str("env"),
            Source::Default => f.write_str("default"),
        }
    }
}

impl Source {
    /// A short label for machine-readable output (`flag`, `env_file`, `env`, `default`).
    pub fn label(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::EnvFile(_) => "env_file",
            Source::Env => "env",
            Source::Default => "default",
        }
    }
}

/// One effective setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

/// NATS_URL, NATS_ENABLED and NATS_SUBJECT_PREFIX as the service would see them.
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    pub url: Setting,
    pub enabled: Setting,
    pub subject_prefix: Setting,
}

impl ServiceSettings {
    /// Whether the services would publish (see [`crate::settings::messaging_enabled`]).
    pub fn messaging_enabled(&self) -> bool {
        crate::settings::messaging_enabled(&self.enabled.value)
    }

    /// The server list, parsed by the one NATS URL parser.
    pub fn servers(&self) -> Vec<Entry> {
        natsurl::parse_server_list(&self.url.value)
    }
}

/// Where the credentials for a server came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthSource {
    None,
    Flag,
    Url,
    /// A variable, from the environment or the env file.
    Variable(&'static str),
}

impl fmt::Display for AuthSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthSource::None => f.write_str("none"),
            AuthSource::Flag => f.write_str("flag"),
            AuthSource::Url => f.write_str("URL userinfo"),
            AuthSource::Variable(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// `reason` is said once: it is not also a source of this error.
    #[error("cannot read --env-file {path}: {reason}")]
    EnvFile { path: PathBuf, reason: String },
    #[error("env file {path}, line {line}: {message}")]
    EnvFileSyntax {
        path: PathBuf,
        line: u32,
        message: String,
    },
    #[error("--password needs --user")]
    PasswordWithoutUser,
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsFileError),
}

/// Everything needed to reach NATS: settings, credentials, TLS and the step timeout.
#[derive(Clone, Debug)]
pub struct ConnectionSettings {
    pub settings: ServiceSettings,
    pub tls: TlsFiles,
    pub timeout: Duration,
    /// Credentials given with flags; they win over the URL's.
    pub flag_auth: Option<Auth>,
    /// Credentials from the `NATS_*` variables, and the variable that gave them; used
    /// for servers whose URL has none.
    pub variable_auth: Option<(Auth, &'static str)>,
}

impl ConnectionSettings {
    /// What may be printed of the credentials for `server`: as [`Auth::describe`], but a
    /// file named by a variable (NATS_CREDS, NATS_NKEY) is named by the variable, whose
    /// value is never printed (it may hold the credentials themselves by mistake).
    pub fn describe_auth(&self, server: &ServerUrl) -> String {
        let (auth, source) = self.auth_for(server);
        match (&auth, &source) {
            (Auth::CredsFile(path) | Auth::NkeyFile(path), _) => {
                let what = if matches!(auth, Auth::CredsFile(_)) {
                    "credentials file"
                } else {
                    "nkey seed file"
                };
                format!("{what} {}", shown_file(path, &source))
            }
            _ => auth.describe(),
        }
    }

    /// The credentials used for `server`, and where they came from.
    pub fn auth_for(&self, server: &ServerUrl) -> (Auth, AuthSource) {
        if let Some(auth) = &self.flag_auth {
            return (auth.clone(), AuthSource::Flag);
        }
        match &server.credentials {
            Some(Credentials::Token(token)) => {
                return (Auth::Token(token.clone()), AuthSource::Url);
            }
            Some(Credentials::UserPassword { user, password }) => {
                return (
                    Auth::UserPassword {
                        user: user.clone(),
                        password: password.clone(),
                    },
                    AuthSource::Url,
                );
            }
            None => {}
        }
        match &self.variable_auth {
            Some((auth, name)) => (auth.clone(), AuthSource::Variable(name)),
            None => (Auth::None, AuthSource::None),
        }
    }

    /// Whether a connection to `server` must use TLS: a `tls://`/`wss://` scheme or TLS
    /// files on the command line. A server that requires TLS is upgraded anyway.
    pub fn tls_required(&self, server: &ServerUrl) -> bool {
        matches!(
            server.scheme.effective(),
            Some(natsurl::Scheme::Tls | natsurl::Scheme::Wss)
        ) || self.tls.any()
    }

    /// The TLS settings of the command line, with its files read.
    pub fn tls_config(&self) -> Result<TlsConfig, ConnectionError> {
        Ok(TlsConfig::load(&self.tls)?)
    }

    /// How to reach `server`: its credentials (files read now), the shared TLS
    /// settings, and whether TLS is wanted even if the server does not require it.
    pub fn dialer(
        &self,
        server: &ServerUrl,
        tls: &Arc<TlsConfig>,
    ) -> Result<Dialer, ConnectionError> {
        let (auth, source) = self.auth_for(server);
        let secret = Secret::load(&auth, &|path| shown_file(path, &source))?;
        Ok(Dialer::new(
            server.clone(),
            secret,
            Arc::clone(tls),
            self.tls_required(server),
        ))
    }
}

/// A credentials or seed file as it may be printed: its path when it was given with a
/// flag, the variable's name when a variable names it.
fn shown_file(path: &Path, source: &AuthSource) -> String {
    match source {
        AuthSource::Variable(name) => format!("(the path in {name})"),
        _ => path.display().to_string(),
    }
}
