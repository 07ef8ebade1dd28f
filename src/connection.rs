//! The connection settings shared by `check`, `test-messaging` and `watch`: the flags a
//! user types (`ConnectArgs`), the effective NATS_URL / NATS_ENABLED /
//! NATS_SUBJECT_PREFIX with where each came from, the credentials and TLS files, and the
//! [`Dialer`] for one server of the list.
//!
//! Precedence for the three settings: flag, then `--env-file`, then the process
//! environment, then the documented default. Credentials: flags, then the URL's
//! userinfo (what the Python services use), then the `NATS_*` variables of the nats
//! tooling. The URL given to a dialer never carries the userinfo: the credentials go
//! into CONNECT only.

use crate::manifest::dotenv;
use crate::manifest::model::EnvSource;
use crate::nats::auth::{CredentialsError, Secret};
use crate::nats::connect::Dialer;
use crate::nats::tls::{TlsConfig, TlsFileError};
use crate::natsurl::{self, Credentials, Entry, ServerUrl};
use clap::Args;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const URL_VARIABLE: &str = "NATS_URL";
pub const ENABLED_VARIABLE: &str = "NATS_ENABLED";
pub const PREFIX_VARIABLE: &str = "NATS_SUBJECT_PREFIX";
pub const DEFAULT_ENABLED: &str = "true";
pub const DEFAULT_PREFIX: &str = "binance.extraction";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Connection flags, flattened into each command that talks to NATS.
#[derive(Clone, Debug, Default, Args)]
pub struct ConnectArgs {
    /// Server URL(s), comma-separated; overrides NATS_URL.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Read NATS_URL, NATS_ENABLED and NATS_SUBJECT_PREFIX (and NATS_USER, ...) from
    /// this .env file; its values override the process environment.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    /// User name (also NATS_USER).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Password (also NATS_PASSWORD). Never printed.
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Authentication token (also NATS_TOKEN). Never printed.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Credentials file with a user JWT and nkey seed (also NATS_CREDS).
    #[arg(long, value_name = "FILE")]
    pub creds: Option<PathBuf>,

    /// File holding an nkey seed (also NATS_NKEY).
    #[arg(long, value_name = "FILE")]
    pub nkey: Option<PathBuf>,

    /// CA certificate(s) to verify the server with (PEM).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// Client certificate for mutual TLS (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Client key for mutual TLS (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Time limit of each network step (e.g. 3s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,
}

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
pub struct Settings {
    pub url: Setting,
    pub enabled: Setting,
    pub subject_prefix: Setting,
}

impl Settings {
    /// The services compare `value.lower() == "true"`; anything else turns messaging off.
    pub fn messaging_enabled(&self) -> bool {
        self.enabled.value.to_lowercase() == "true"
    }

    /// The server list, parsed by the one NATS URL parser.
    pub fn servers(&self) -> Vec<Entry> {
        natsurl::parse_server_list(&self.url.value)
    }
}

/// Credentials, without saying where they came from. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Token(String),
    UserPassword { user: String, password: String },
    CredsFile(PathBuf),
    NkeyFile(PathBuf),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Auth {
    /// What may be printed: the kind, the user name or the file, never a secret.
    pub fn describe(&self) -> String {
        match self {
            Auth::None => "none".to_string(),
            Auth::Token(_) => "token ***".to_string(),
            Auth::UserPassword { user, .. } => format!("user {user} with password ***"),
            Auth::CredsFile(path) => format!("credentials file {}", path.display()),
            Auth::NkeyFile(path) => format!("nkey seed file {}", path.display()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Token(_) => "token",
            Auth::UserPassword { .. } => "user_password",
            Auth::CredsFile(_) => "creds",
            Auth::NkeyFile(_) => "nkey",
        }
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

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("cannot read env file {path}: {source}")]
    EnvFile {
        path: PathBuf,
        source: std::io::Error,
    },
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
pub struct Connection {
    pub settings: Settings,
    pub tls: TlsFiles,
    pub timeout: Duration,
    flag_auth: Option<Auth>,
    variable_auth: Option<(Auth, &'static str)>,
}

/// Reads the effective settings. `environment` looks a variable up in the process
/// environment (a parameter so that tests and other commands can pass their own).
pub fn resolve(
    args: &ConnectArgs,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, ConnectionError> {
    let file_vars = match &args.env_file {
        Some(path) => read_env_file(path)?,
        None => Vec::new(),
    };
    let file_value = |name: &str| -> Option<String> {
        file_vars
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let lookup = |name: &str| -> Option<(String, Source)> {
        if let (Some(value), Some(path)) = (file_value(name), &args.env_file) {
            return Some((value, Source::EnvFile(path.clone())));
        }
        environment(name).map(|value| (value, Source::Env))
    };
    let setting = |name: &str, flag: Option<&String>, default: &str| -> Setting {
        if let Some(value) = flag {
            return Setting {
                value: value.clone(),
                source: Source::Flag,
            };
        }
        match lookup(name) {
            Some((value, source)) => Setting { value, source },
            None => Setting {
                value: default.to_string(),
                source: Source::Default,
            },
        }
    };
    let settings = Settings {
        url: setting(URL_VARIABLE, args.url.as_ref(), natsurl::DEFAULT_URL),
        enabled: setting(ENABLED_VARIABLE, None, DEFAULT_ENABLED),
        subject_prefix: setting(PREFIX_VARIABLE, None, DEFAULT_PREFIX),
    };

    let flag_auth = if let Some(path) = &args.creds {
        Some(Auth::CredsFile(path.clone()))
    } else if let Some(path) = &args.nkey {
        Some(Auth::NkeyFile(path.clone()))
    } else if let Some(token) = &args.token {
        Some(Auth::Token(token.clone()))
    } else if let Some(user) = &args.user {
        Some(Auth::UserPassword {
            user: user.clone(),
            password: args.password.clone().unwrap_or_default(),
        })
    } else if args.password.is_some() {
        return Err(ConnectionError::PasswordWithoutUser);
    } else {
        None
    };
    let variable = |name: &str| {
        lookup(name)
            .map(|(value, _)| value)
            .filter(|v| !v.is_empty())
    };
    let variable_auth = if let Some(path) = variable("NATS_CREDS") {
        Some((Auth::CredsFile(PathBuf::from(path)), "NATS_CREDS"))
    } else if let Some(path) = variable("NATS_NKEY") {
        Some((Auth::NkeyFile(PathBuf::from(path)), "NATS_NKEY"))
    } else if let Some(token) = variable("NATS_TOKEN") {
        Some((Auth::Token(token), "NATS_TOKEN"))
    } else {
        variable("NATS_USER").map(|user| {
            (
                Auth::UserPassword {
                    user,
                    password: variable("NATS_PASSWORD").unwrap_or_default(),
                },
                "NATS_USER",
            )
        })
    };
    Ok(Connection {
        settings,
        tls: TlsFiles {
            ca: args.tls_ca.clone(),
            cert: args.tls_cert.clone(),
            key: args.tls_key.clone(),
        },
        timeout: args.timeout,
        flag_auth,
        variable_auth,
    })
}

/// Reads the process environment, for `resolve`.
pub fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, ConnectionError> {
    let text =
        crate::files::read_to_string(path, crate::files::MAX_INPUT_BYTES).map_err(|error| {
            ConnectionError::EnvFile {
                path: path.to_path_buf(),
                source: error.into(),
            }
        })?;
    let name: Arc<str> = Arc::from(path.display().to_string());
    let (vars, errors) = dotenv::parse(&name, &text);
    if let Some(error) = errors.into_iter().next() {
        return Err(ConnectionError::EnvFileSyntax {
            path: path.to_path_buf(),
            line: error.line,
            message: error.message,
        });
    }
    Ok(vars
        .into_iter()
        .map(|var| {
            let value = match var.source {
                EnvSource::Value(value) => value.text.into(),
                _ => String::new(),
            };
            (var.name.into(), value)
        })
        .collect())
}

impl Connection {
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

/// Parses `3s`, `500ms`, `1.5s`, `2m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    // The messages do not repeat the text: the command-line parser shows it (escaped).
    let value: f64 = number
        .parse()
        .map_err(|_| "not a duration (examples: 3s, 500ms)".to_string())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err("unknown unit (use ms, s or m)".to_string()),
    };
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        return Err("must be more than 0 and at most 1 hour".to_string());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    fn server(url: &str) -> ServerUrl {
        match natsurl::parse_server_list(url).remove(0) {
            Entry::Server(server) => server,
            Entry::Invalid { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let connection = resolve(&ConnectArgs::default(), &environment(&[])).unwrap();
        assert_eq!(connection.settings.url.value, "nats://localhost:4222");
        assert_eq!(connection.settings.url.source, Source::Default);
        assert!(connection.settings.messaging_enabled());
        assert_eq!(connection.settings.subject_prefix.value, DEFAULT_PREFIX);
    }

    #[test]
    fn flag_beats_env_file_beats_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        std::fs::write(
            &path,
            "NATS_URL=nats://from-file:4222\nNATS_ENABLED=False\n",
        )
        .unwrap();
        let env = environment(&[
            ("NATS_URL", "nats://from-env:4222"),
            ("NATS_SUBJECT_PREFIX", "p"),
        ]);
        let mut args = ConnectArgs {
            env_file: Some(path.clone()),
            ..ConnectArgs::default()
        };
        let connection = resolve(&args, &env).unwrap();
        assert_eq!(connection.settings.url.value, "nats://from-file:4222");
        assert_eq!(connection.settings.url.source, Source::EnvFile(path));
        assert!(!connection.settings.messaging_enabled());
        assert_eq!(connection.settings.subject_prefix.source, Source::Env);
        args.url = Some("nats://flag:4222".to_string());
        let connection = resolve(&args, &env).unwrap();
        assert_eq!(connection.settings.url.source, Source::Flag);
    }

    #[test]
    fn credentials_flag_then_url_then_variables() {
        let env = environment(&[("NATS_USER", "svc"), ("NATS_PASSWORD", "pw")]);
        let connection = resolve(&ConnectArgs::default(), &env).unwrap();
        let (auth, source) = connection.auth_for(&server("nats://tok@h:4222"));
        assert_eq!(auth, Auth::Token("tok".to_string()));
        assert_eq!(source, AuthSource::Url);
        let (auth, source) = connection.auth_for(&server("nats://h:4222"));
        assert_eq!(auth.describe(), "user svc with password ***");
        assert_eq!(source, AuthSource::Variable("NATS_USER"));
        let args = ConnectArgs {
            token: Some("s3cr3t".to_string()),
            ..ConnectArgs::default()
        };
        let connection = resolve(&args, &env).unwrap();
        assert_eq!(
            connection.auth_for(&server("nats://u:p@h")).1,
            AuthSource::Flag
        );
        assert!(!format!("{:?}", connection.auth_for(&server("nats://h")).0).contains("s3cr3t"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3h").is_err());
    }
}
