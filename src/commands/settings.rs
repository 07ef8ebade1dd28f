//! The settings of `check`, `test-messaging` and `watch`, read: the second stage of the
//! command line (`crate::cli::ConnectArgs`, validated as typed), turned into the
//! objects the commands work with (`crate::connection::ConnectionSettings`).
//!
//! Precedence for NATS_URL, NATS_ENABLED and NATS_SUBJECT_PREFIX: flag, then
//! `--env-file`, then the process environment, then the documented default.
//! Credentials: flags, then (per server) the URL's userinfo, then NATS_CREDS,
//! NATS_NKEY, NATS_TOKEN, NATS_USER/NATS_PASSWORD.

use crate::cli::ConnectArgs;
use crate::connection::{ConnectionError, ConnectionSettings, ServiceSettings, Setting, Source};
use crate::manifest::dotenv;
use crate::manifest::model::EnvSource;
use crate::nats::auth::Auth;
use crate::nats::tls::TlsFiles;
use crate::settings::{
    DEFAULT_ENABLED, DEFAULT_PREFIX, DEFAULT_URL, ENABLED_VARIABLE, PREFIX_VARIABLE, URL_VARIABLE,
};
use std::path::{Path, PathBuf};

/// The settings of the command line, the env file and the environment, as objects.
/// `environment` looks a variable up in the process environment (a parameter so that
/// tests can pass their own).
pub(crate) fn connection(
    args: &ConnectArgs,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectionSettings, ConnectionError> {
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
    let settings = ServiceSettings {
        url: setting(URL_VARIABLE, args.url.as_ref(), DEFAULT_URL),
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
    Ok(ConnectionSettings {
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

/// Reads the process environment, for [`connection`].
pub(crate) fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, ConnectionError> {
    let text =
        crate::files::read_to_string(path, crate::files::MAX_INPUT_BYTES).map_err(|error| {
            ConnectionError::EnvFile {
                path: path.to_path_buf(),
                reason: read_failure(error),
            }
        })?;
    let name = crate::diagnostic::FileName::from(path.display().to_string());
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

/// Why a file could not be read, as `lint` says it: `no such file or directory`, `a
/// directory, not a file`, or the system's words.
fn read_failure(error: crate::files::ReadError) -> String {
    match error {
        crate::files::ReadError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            "no such file or directory".to_string()
        }
        crate::files::ReadError::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            "permission denied".to_string()
        }
        crate::files::ReadError::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// The namespace of the pod this runs in: `POD_NAMESPACE`, else the service-account
/// namespace file.
pub(crate) fn pod_namespace(environment: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(namespace) = environment("POD_NAMESPACE").filter(|ns| !ns.trim().is_empty()) {
        return Some(namespace.trim().to_string());
    }
    crate::files::read_to_string(
        Path::new("/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
        256,
    )
    .ok()
    .map(|text| text.trim().to_string())
    .filter(|ns| !ns.is_empty())
}

/// The name of the pod this runs in: `POD_NAME` (the downward API's `metadata.name`),
/// else, inside a pod (the kubelet sets `KUBERNETES_SERVICE_HOST` in every container),
/// `HOSTNAME`, which is the pod's name there.
pub(crate) fn pod_name(environment: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| {
        environment(name)
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    set("POD_NAME").or_else(|| set("KUBERNETES_SERVICE_HOST").and_then(|_| set("HOSTNAME")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::AuthSource;
    use crate::natsurl::{self, Entry, ServerUrl};

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
        let settings = connection(&ConnectArgs::default(), &environment(&[])).unwrap();
        assert_eq!(settings.settings.url.value, "nats://localhost:4222");
        assert_eq!(settings.settings.url.source, Source::Default);
        assert!(settings.settings.messaging_enabled());
        assert_eq!(settings.settings.subject_prefix.value, DEFAULT_PREFIX);
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
        let settings = connection(&args, &env).unwrap();
        assert_eq!(settings.settings.url.value, "nats://from-file:4222");
        assert_eq!(settings.settings.url.source, Source::EnvFile(path));
        assert!(!settings.settings.messaging_enabled());
        assert_eq!(settings.settings.subject_prefix.source, Source::Env);
        args.url = Some("nats://flag:4222".to_string());
        let settings = connection(&args, &env).unwrap();
        assert_eq!(settings.settings.url.source, Source::Flag);
    }

    #[test]
    fn credentials_flag_then_url_then_variables() {
        let env = environment(&[("NATS_USER", "svc"), ("NATS_PASSWORD", "pw")]);
        let settings = connection(&ConnectArgs::default(), &env).unwrap();
        let (auth, source) = settings.auth_for(&server("nats://tok@h:4222"));
        assert_eq!(auth, Auth::Token("tok".to_string()));
        assert_eq!(source, AuthSource::Url);
        let (auth, source) = settings.auth_for(&server("nats://h:4222"));
        assert_eq!(auth.describe(), "user svc with password ***");
        assert_eq!(source, AuthSource::Variable("NATS_USER"));
        let args = ConnectArgs {
            token: Some("s3cr3t".to_string()),
            ..ConnectArgs::default()
        };
        let settings = connection(&args, &env).unwrap();
        assert_eq!(
            settings.auth_for(&server("nats://u:p@h")).1,
            AuthSource::Flag
        );
        assert!(!format!("{:?}", settings.auth_for(&server("nats://h")).0).contains("s3cr3t"));
    }
}
