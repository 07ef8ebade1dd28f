//! The credentials a CONNECT carries: a token, a user and password, an nkey (the
//! server's nonce signed with the seed), or a user JWT from a credentials file (the
//! nonce signed with the file's seed). Files are read through `crate::files` when the
//! settings are read; signing happens per connection, with the nonce of its INFO.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use nkeys::KeyPair;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Credentials, without saying where they came from. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Token(String),
    UserPassword { user: String, password: String },
    CredsFile(PathBuf),
    NkeyFile(PathBuf),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

/// Credentials, keys and seeds are a few kilobytes; a larger file is not one.
const SECRET_FILE_LIMIT: u64 = 1024 * 1024;

/// Why a credentials or seed file cannot be used. The messages never contain a secret;
/// `file` is what may be printed of the file (see [`Secret::load`]).
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read {what} {file}: {message}")]
    Unreadable {
        what: &'static str,
        file: String,
        message: String,
    },
    #[error("{what} {file}: {message}")]
    Invalid {
        what: &'static str,
        file: String,
        message: &'static str,
    },
}

/// Credentials ready for CONNECT. `Debug` never shows a secret.
#[derive(Clone)]
pub enum Secret {
    None,
    Token(String),
    UserPassword { user: String, password: String },
    Nkey(KeyPair),
    Jwt { jwt: String, key: KeyPair },
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::None => "None",
            Secret::Token(_) => "Token(***)",
            Secret::UserPassword { .. } => "UserPassword(***)",
            Secret::Nkey(_) => "Nkey(***)",
            Secret::Jwt { .. } => "Jwt(***)",
        })
    }
}

impl Secret {
    /// Reads the files `auth` names. `shown` says how a file may appear in a message:
    /// its path, or, for a path taken from a variable, the variable's name.
    pub fn load(auth: &Auth, shown: &dyn Fn(&Path) -> String) -> Result<Secret, CredentialsError> {
        Ok(match auth {
            Auth::None => Secret::None,
            Auth::Token(token) => Secret::Token(token.clone()),
            Auth::UserPassword { user, password } => Secret::UserPassword {
                user: user.clone(),
                password: password.clone(),
            },
            Auth::NkeyFile(path) => {
                let what = "nkey seed file";
                let text = read(what, path, shown)?;
                Secret::Nkey(seed_file(&text).ok_or_else(|| CredentialsError::Invalid {
                    what,
                    file: shown(path),
                    message: "no valid user seed (a line starting with SU) in it",
                })?)
            }
            Auth::CredsFile(path) => {
                let what = "credentials file";
                let text = read(what, path, shown)?;
                let invalid = |message| CredentialsError::Invalid {
                    what,
                    file: shown(path),
                    message,
                };
                let (jwt, seed) = creds_file(&text)
                    .ok_or_else(|| invalid("no user JWT and nkey seed blocks in it"))?;
                let key = KeyPair::from_seed(seed)
                    .map_err(|_| invalid("its nkey seed is not a valid seed"))?;
                Secret::Jwt {
                    jwt: jwt.to_string(),
                    key,
                }
            }
        })
    }

    /// Adds the credentials to the CONNECT fields. `nonce` is INFO's; nkeys and JWTs
    /// sign it (a server without nkey or JWT users sends none, and then refuses them).
    pub fn add_to(&self, fields: &mut Map<String, Value>, nonce: Option<&str>) {
        let sign = |key: &KeyPair| -> Option<String> {
            let signature = key.sign(nonce?.as_bytes()).ok()?;
            Some(URL_SAFE_NO_PAD.encode(signature))
        };
        match self {
            Secret::None => {}
            Secret::Token(token) => {
                fields.insert("auth_token".to_string(), json!(token));
            }
            Secret::UserPassword { user, password } => {
                fields.insert("user".to_string(), json!(user));
                fields.insert("pass".to_string(), json!(password));
            }
            Secret::Nkey(key) => {
                fields.insert("nkey".to_string(), json!(key.public_key()));
                if let Some(signature) = sign(key) {
                    fields.insert("sig".to_string(), json!(signature));
                }
            }
            Secret::Jwt { jwt, key } => {
                fields.insert("jwt".to_string(), json!(jwt));
                if let Some(signature) = sign(key) {
                    fields.insert("sig".to_string(), json!(signature));
                }
            }
        }
    }
}

fn read(
    what: &'static str,
    path: &Path,
    shown: &dyn Fn(&Path) -> String,
) -> Result<String, CredentialsError> {
    crate::files::read_to_string(path, SECRET_FILE_LIMIT).map_err(|error| {
        CredentialsError::Unreadable {
            what,
            file: shown(path),
            // The kind of error only: the operating system's words, never the contents.
            message: std::io::Error::from(error).to_string(),
        }
    })
}

/// The user seed of an nkey seed file: the first line that starts with `SU` (other
/// lines, such as comments or the public key, are ignored, as nats.go does).
fn seed_file(text: &str) -> Option<KeyPair> {
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("SU"))
        .and_then(|seed| KeyPair::from_seed(seed).ok())
}

/// The user JWT and the seed of a credentials file: the first two blocks framed by
/// lines of dashes (`-----BEGIN NATS USER JWT-----` … `------END NATS USER JWT------`,
/// then the seed), which is how the reference clients read these files.
fn creds_file(text: &str) -> Option<(&str, &str)> {
    let mut blocks = Vec::with_capacity(2);
    let mut lines = text.lines().map(str::trim);
    // Bounded by the number of lines of a file of at most SECRET_FILE_LIMIT bytes.
    while blocks.len() < 2 {
        let line = lines.next()?;
        if !is_frame(line) {
            continue;
        }
        let value = lines.find(|line| !line.is_empty())?;
        if is_frame(value) {
            return None;
        }
        let closing = lines.next()?;
        if !is_frame(closing) {
            return None;
        }
        blocks.push(value);
    }
    Some((blocks[0], blocks[1]))
}

/// `-----BEGIN …-----`, `------END …------`: three dashes or more on both sides.
fn is_frame(line: &str) -> bool {
    line.len() >= 6 && line.starts_with("---") && line.ends_with("---")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_credentials_file() {
        let key = KeyPair::new_user();
        let seed = key.seed().expect("seed");
        let text = format!(
            "-----BEGIN NATS USER JWT-----\neyJhbGciOi.payload.sig\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        );
        let (jwt, found) = creds_file(&text).expect("blocks");
        assert_eq!(jwt, "eyJhbGciOi.payload.sig");
        assert_eq!(found, seed);
        assert!(creds_file("-----BEGIN NATS USER JWT-----\nabc\n").is_none());
        assert!(creds_file("nothing here").is_none());
    }

    #[test]
    fn signs_the_nonce() {
        let key = KeyPair::new_user();
        let secret = Secret::Nkey(key.clone());
        let mut fields = Map::new();
        secret.add_to(&mut fields, Some("nonce-from-info"));
        assert_eq!(fields["nkey"], json!(key.public_key()));
        let signature = URL_SAFE_NO_PAD
            .decode(fields["sig"].as_str().expect("sig"))
            .expect("base64");
        assert!(key.verify(b"nonce-from-info", &signature).is_ok());
        assert!(!format!("{secret:?}").contains(&key.seed().expect("seed")));
    }

    #[test]
    fn seed_files_may_have_other_lines() {
        let key = KeyPair::new_user();
        let text = format!(
            "# the extractor's key\n{}\n  {}  \n",
            key.public_key(),
            key.seed().expect("seed")
        );
        assert_eq!(
            seed_file(&text).map(|found| found.public_key()),
            Some(key.public_key())
        );
        assert!(seed_file("SUNOTASEED").is_none());
    }
}
