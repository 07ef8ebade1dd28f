//! The one NATS server-list parser and host classifier. `lint` uses it to judge a
//! configured value; `check` uses it to decide what to resolve and dial. Nothing else
//! in the crate splits or parses a NATS URL.
//!
//! A value is a comma-separated list of servers (`nats://a:4222,nats://b:4222`); each
//! entry has an optional scheme, optional credentials (`user:pass@` or `token@`), a
//! host (name, IPv4 or bracketed IPv6) and an optional port.
//!
//! It also owns where credentials are in a URL, in a configured value and in free
//! text ([`userinfo`]: `find_userinfo`, `mask_credentials`, `mask_credentials_in_text`):
//! the userinfo is found before anything else is parsed, so nothing but `Credentials`
//! ever holds it; and where a host leads ([`host`]: IP ranges, `classify_host`).

pub mod host;
pub mod userinfo;

pub use host::{classify_host, ip_range, is_top_level_domain, net_contains, HostClass, IpRange};
use userinfo::blank_userinfo;
pub use userinfo::{
    find_userinfo, find_userinfo_in_text, mask_credentials, mask_credentials_in_text, Userinfo,
};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The port a NATS client dials when the URL names none.
pub const DEFAULT_PORT: u16 = 4222;
pub use crate::settings::DEFAULT_URL;

/// Well-known NATS ports that are not the client port, with what listens there.
pub const NON_CLIENT_PORTS: &[(u16, &str)] = &[
    (6222, "the cluster route port"),
    (7422, "the leaf node port"),
    (8222, "the HTTP monitoring port"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Nats,
    Tls,
    Ws,
    Wss,
}

impl Scheme {
    fn parse(text: &str) -> Option<Scheme> {
        match text.to_ascii_lowercase().as_str() {
            "nats" => Some(Scheme::Nats),
            "tls" => Some(Scheme::Tls),
            "ws" => Some(Scheme::Ws),
            "wss" => Some(Scheme::Wss),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Nats => "nats",
            Scheme::Tls => "tls",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }

    /// The port clients use when the URL has none (as nats.go and async-nats do).
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
            Scheme::Nats | Scheme::Tls => DEFAULT_PORT,
        }
    }
}

/// The scheme as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemeSpec {
    Known(Scheme),
    /// No `scheme://`: clients assume `nats://`.
    Missing,
    /// A scheme no NATS client accepts (`http`, `https`, `tcp`, ...).
    Unsupported(String),
}

impl SchemeSpec {
    /// The scheme a client would use, when it would accept the URL at all.
    pub fn effective(&self) -> Option<Scheme> {
        match self {
            SchemeSpec::Known(scheme) => Some(*scheme),
            SchemeSpec::Missing => Some(Scheme::Nats),
            SchemeSpec::Unsupported(_) => None,
        }
    }
}

/// Credentials embedded in a URL. `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `nats://s3cr3t@host`: a single userinfo part is a token.
    Token(String),
    UserPassword {
        user: String,
        password: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(***)"),
            Credentials::UserPassword { user, .. } => write!(f, "UserPassword({user}:***)"),
        }
    }
}

impl Credentials {
    /// The userinfo as it may be printed.
    pub fn masked(&self) -> String {
        match self {
            Credentials::Token(_) => "***".to_string(),
            Credentials::UserPassword { user, .. } => format!("{user}:***"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    /// A DNS name, lowercased, without a trailing dot.
    Name {
        name: String,
        absolute: bool,
    },
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            Host::Ip(IpAddr::V4(v4)) => write!(f, "{v4}"),
            Host::Name { name, absolute } => {
                f.write_str(name)?;
                if *absolute {
                    f.write_str(".")?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Port {
    /// No port written: the scheme's default.
    Default(u16),
    Explicit(u16),
    /// Something that is not a number (`:nats`, `:$(PORT)`).
    NotNumber(String),
}

impl Port {
    pub fn number(&self) -> Option<u16> {
        match self {
            Port::Default(port) | Port::Explicit(port) => Some(*port),
            Port::NotNumber(_) => None,
        }
    }
}

/// One entry of a server list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    /// Byte offset of the entry in the value it came from.
    pub offset: usize,
    pub scheme: SchemeSpec,
    pub credentials: Option<Credentials>,
    pub host: Host,
    pub port: Port,
}

impl ServerUrl {
    /// The URL with credentials replaced by `***`, as it may appear in any output.
    pub fn masked(&self) -> String {
        self.render()
    }

    /// The URL a client should dial: scheme and port made explicit, credentials removed
    /// (nats-doctor's client puts them into CONNECT; async-nats ignores userinfo).
    pub fn without_credentials(&self) -> String {
        let mut copy = self.clone();
        copy.credentials = None;
        copy.render()
    }

    fn render(&self) -> String {
        let scheme = match &self.scheme {
            SchemeSpec::Known(scheme) => scheme.as_str().to_string(),
            SchemeSpec::Missing => Scheme::Nats.as_str().to_string(),
            SchemeSpec::Unsupported(other) => other.clone(),
        };
        let userinfo = match &self.credentials {
            Some(credentials) => format!("{}@", credentials.masked()),
            None => String::new(),
        };
        let port = match &self.port {
            Port::Default(port) | Port::Explicit(port) => port.to_string(),
            Port::NotNumber(text) => text.clone(),
        };
        format!("{scheme}://{userinfo}{}:{port}", self.host)
    }
}

/// Why an entry of a server list cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the value is empty")]
    Empty,
    #[error("empty entry in the server list (two commas, or a leading or trailing comma)")]
    EmptyEntry,
    #[error("contains whitespace; NATS clients do not trim server URLs")]
    Whitespace,
    #[error("contains a quote character; the quotes became part of the value")]
    Quote,
    #[error("the host is empty")]
    EmptyHost,
    #[error("the port `{0}` is not between 1 and 65535")]
    PortOutOfRange(String),
    #[error("the port is empty after `:`")]
    EmptyPort,
    #[error("an IPv6 address must be written in brackets, as in nats://[::1]:4222")]
    UnbracketedIpv6,
    #[error("`{0}` is not a valid IPv6 address")]
    BadIpv6(String),
    #[error("the host contains `{0}`, which is not allowed in a host name")]
    BadHostCharacter(char),
    #[error("the scheme is empty before `://`")]
    EmptyScheme,
    /// The list has more entries than [`MAX_SERVERS`]; the count is of all of them.
    #[error("the list has {0} servers; nats-doctor reads the first 1,024 (a NATS client needs a few seed servers), and does not check the rest")]
    TooManyServers(usize),
    /// The character, never the user name or password that holds it.
    #[error(
        "the user name or password contains {}, where NATS clients end the server address \
         (they read the rest as a path, query, fragment or next server)",
        describe_character(*.0)
    )]
    UserinfoCharacter(char),
}

impl UrlError {
    /// How to fix the value, when there is more to say than the rule's general advice.
    pub fn help(&self) -> Option<String> {
        match self {
            UrlError::UserinfoCharacter(character) => Some(format!(
                "percent-encode {} as {} (nats.go decodes it; nats.py and async-nats send it \
                 as written), or pass the credentials in NATS_USER/NATS_PASSWORD or NATS_TOKEN \
                 from a Secret",
                describe_character(*character),
                percent_encoded(*character)
            )),
            UrlError::TooManyServers(_) => Some(
                "list a few seed servers of the cluster; the client learns the others from them"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// Characters in a user name or password that make NATS clients misread the URL: the
/// authority ends at `/`, `?` and `#` for all of them, nats.go and async-nats split a
/// list at `,`, and white space or a `"` is rejected or cut off.
fn breaks_userinfo(character: char) -> bool {
    matches!(character, '/' | '?' | '#' | ',' | '"') || character.is_whitespace()
}

fn describe_character(character: char) -> String {
    if character.is_whitespace() {
        "white space".to_string()
    } else {
        format!("`{character}`")
    }
}

fn percent_encoded(character: char) -> String {
    let mut buffer = [0u8; 4];
    character
        .encode_utf8(&mut buffer)
        .bytes()
        .map(|byte| format!("%{byte:02X}"))
        .collect()
}

/// One parsed entry, or why it failed, with its byte offset in the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Server(ServerUrl),
    Invalid { offset: usize, error: UrlError },
}

/// The most servers read from one value. A NATS client is given a few seed servers and
/// learns the rest of its cluster from them; 1,024 is far above any real list (a
/// cluster of 1,024 seeds in one variable would be some 25 KiB of text), and it keeps
/// what one value costs to a few hundred kilobytes, where a 16 MiB value of two million
/// servers took gigabytes.
pub const MAX_SERVERS: usize = 1024;

/// Splits a configured value on commas and parses every entry, up to [`MAX_SERVERS`]:
/// the rest of a longer list is one [`UrlError::TooManyServers`] entry, at the first
/// server not read. The userinfo of every entry is found first ([`find_userinfo`]) and
/// the list is split and parsed from a copy in which it is blanked out, so a comma, `#`
/// or `/` in a password does not split the list, and no error or field but
/// `credentials` can hold any part of a password.
pub fn parse_server_list(value: &str) -> Vec<Entry> {
    if value.is_empty() {
        return vec![Entry::Invalid {
            offset: 0,
            error: UrlError::Empty,
        }];
    }
    let blanked = blank_userinfo(value, &find_userinfo(value));
    let mut entries = Vec::new();
    let mut offset = 0;
    for part in blanked.split(',') {
        if entries.len() == MAX_SERVERS {
            let servers =
                MAX_SERVERS + 1 + blanked[offset..].bytes().filter(|b| *b == b',').count();
            entries.push(Entry::Invalid {
                offset,
                error: UrlError::TooManyServers(servers),
            });
            break;
        }
        let written = &value[offset..offset + part.len()];
        entries.push(match parse_blanked(part, written, offset) {
            Ok(server) => Entry::Server(server),
            Err(error) => Entry::Invalid { offset, error },
        });
        offset += part.len() + 1;
    }
    entries.shrink_to_fit();
    entries
}

/// Parses one server URL (no commas).
pub fn parse_server(text: &str, offset: usize) -> Result<ServerUrl, UrlError> {
    parse_blanked(&blank_userinfo(text, &find_userinfo(text)), text, offset)
}

/// Parses one entry from `text`, in which the userinfo is blanked out; `written` is the
/// same entry as written, from which only the credentials are taken.
fn parse_blanked(text: &str, written: &str, offset: usize) -> Result<ServerUrl, UrlError> {
    if text.is_empty() {
        return Err(UrlError::EmptyEntry);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(if text.trim().is_empty() {
            UrlError::EmptyEntry
        } else {
            UrlError::Whitespace
        });
    }
    if text.contains(['"', '\'']) {
        return Err(UrlError::Quote);
    }
    let (scheme, rest_at) = match text.find("://") {
        Some(0) => return Err(UrlError::EmptyScheme),
        Some(at) => {
            let written = &text[..at];
            let scheme = match Scheme::parse(written) {
                Some(scheme) => SchemeSpec::Known(scheme),
                None => SchemeSpec::Unsupported(written.to_ascii_lowercase()),
            };
            (scheme, at + 3)
        }
        None => (SchemeSpec::Missing, 0),
    };
    let rest = &text[rest_at..];
    // The authority ends at the first path, query or fragment delimiter.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (credentials, host_port) = match authority.rfind('@') {
        Some(at) => {
            let userinfo = written.get(rest_at..rest_at + at).unwrap_or_default();
            if let Some(character) = userinfo.chars().find(|c| breaks_userinfo(*c)) {
                return Err(UrlError::UserinfoCharacter(character));
            }
            (parse_credentials(userinfo), &authority[at + 1..])
        }
        None => (None, authority),
    };
    let (host, port_text) = split_host_port(host_port)?;
    let default_port = scheme
        .effective()
        .map_or(DEFAULT_PORT, Scheme::default_port);
    let port = match port_text {
        None => Port::Default(default_port),
        Some("") => return Err(UrlError::EmptyPort),
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => match digits.parse::<u16>() {
            Ok(0) | Err(_) => return Err(UrlError::PortOutOfRange(digits.to_string())),
            Ok(port) => Port::Explicit(port),
        },
        Some(other) => Port::NotNumber(other.to_string()),
    };
    Ok(ServerUrl {
        offset,
        scheme,
        credentials,
        host,
        port,
    })
}

fn parse_credentials(userinfo: &str) -> Option<Credentials> {
    if userinfo.is_empty() {
        return None;
    }
    Some(match userinfo.split_once(':') {
        Some((user, password)) => Credentials::UserPassword {
            user: user.to_string(),
            password: password.to_string(),
        },
        None => Credentials::Token(userinfo.to_string()),
    })
}

fn split_host_port(text: &str) -> Result<(Host, Option<&str>), UrlError> {
    if let Some(inner) = text.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(UrlError::BadIpv6(text.to_string()));
        };
        let address = &inner[..close];
        let ip: Ipv6Addr = address
            .parse()
            .map_err(|_| UrlError::BadIpv6(address.to_string()))?;
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(UrlError::BadIpv6(text.to_string())),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    let (host, port) = match text.matches(':').count() {
        0 => (text, None),
        1 => {
            let (host, port) = text.split_once(':').unwrap_or((text, ""));
            (host, Some(port))
        }
        _ => return Err(UrlError::UnbracketedIpv6),
    };
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok((Host::Ip(IpAddr::V4(v4)), port));
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(UrlError::BadHostCharacter(bad));
    }
    let absolute = host.ends_with('.');
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return Err(UrlError::EmptyHost);
    }
    Ok((Host::Name { name, absolute }, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(text: &str) -> ServerUrl {
        parse_server(text, 0).expect("parses")
    }

    #[test]
    fn splits_lists_and_keeps_offsets() {
        let entries = parse_server_list("nats://a:4222,tls://b,c:1");
        let offsets: Vec<usize> = entries
            .iter()
            .map(|entry| match entry {
                Entry::Server(server) => server.offset,
                Entry::Invalid { offset, .. } => *offset,
            })
            .collect();
        assert_eq!(offsets, [0, 14, 22]);
        assert!(matches!(&entries[2], Entry::Server(s) if s.scheme == SchemeSpec::Missing));
    }

    #[test]
    fn reports_malformed_entries() {
        let errors: Vec<UrlError> = [
            "",
            "nats://a,,nats://b",
            "nats://a:",
            "nats://:4222",
            "nats://a:70000",
            " nats://a",
            "nats://::1:4222",
            "'nats://a'",
        ]
        .iter()
        .flat_map(|value| parse_server_list(value))
        .filter_map(|entry| match entry {
            Entry::Invalid { error, .. } => Some(error),
            Entry::Server(_) => None,
        })
        .collect();
        assert_eq!(
            errors,
            [
                UrlError::Empty,
                UrlError::EmptyEntry,
                UrlError::EmptyPort,
                UrlError::EmptyHost,
                UrlError::PortOutOfRange("70000".into()),
                UrlError::Whitespace,
                UrlError::UnbracketedIpv6,
                UrlError::Quote,
            ]
        );
    }

    #[test]
    fn a_list_is_read_up_to_its_first_1024_servers() {
        let value = vec!["nats://a:4222"; 3000].join(",");
        let entries = parse_server_list(&value);
        assert_eq!(entries.len(), MAX_SERVERS + 1);
        assert!(entries[..MAX_SERVERS]
            .iter()
            .all(|entry| matches!(entry, Entry::Server(_))));
        assert_eq!(
            entries[MAX_SERVERS],
            Entry::Invalid {
                offset: MAX_SERVERS * "nats://a:4222,".len(),
                error: UrlError::TooManyServers(3000),
            }
        );
        let exactly = vec!["a"; MAX_SERVERS].join(",");
        assert_eq!(parse_server_list(&exactly).len(), MAX_SERVERS);
    }

    #[test]
    fn default_ports_follow_the_scheme() {
        assert_eq!(server("nats://a").port, Port::Default(4222));
        assert_eq!(server("ws://a").port, Port::Default(80));
        assert_eq!(server("wss://a").port, Port::Default(443));
        assert_eq!(server("a:nats").port, Port::NotNumber("nats".into()));
        assert_eq!(
            server("http://a:8222").scheme,
            SchemeSpec::Unsupported("http".into())
        );
    }

    #[test]
    fn credentials_are_parsed_and_masked() {
        let url = server("nats://app:s3cret@nats:4222");
        assert_eq!(url.masked(), "nats://app:***@nats:4222");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(server("nats://tok3n@nats").masked(), "nats://***@nats:4222");
        assert_eq!(
            mask_credentials_in_text("  value: \"nats://u:p4ss@h:1,tls://t0k@h2\""),
            "  value: \"nats://u:***@h:1,tls://***@h2\""
        );
    }

    /// Passwords that break naive masking: URL delimiters, list separators, quotes, a
    /// number, non-ASCII, a percent-encoded one.
    pub(super) const HOSTILE: &[&str] = &[
        "Hunter2#x",
        "pa/ss",
        "pa?ss",
        "pa,ss",
        "pa;ss",
        "pa ss",
        "p@ss@word",
        "pa:ss",
        "pa\"ss",
        "it's",
        "12345",
        "pässwörd",
        "p%40ss%23",
        "a://b",
    ];

    #[test]
    fn a_password_that_holds_a_scheme_stays_one_userinfo() {
        // `://` with no scheme before it starts no entry.
        assert_eq!(mask_credentials("a:A`://@a"), "a:***@a");
        assert_eq!(mask_credentials("nats://u:x,://y@h"), "nats://u:***@h");
        // An entry whose last `:` is not followed by a port goes on past `,scheme://`.
        assert_eq!(mask_credentials("nats://u:p,nats://q@h"), "nats://u:***@h");
        assert_eq!(
            mask_credentials_in_text("url: nats://u:p ws://q@h"),
            "url: nats://u:***@h"
        );
        let entries = parse_server_list("nats://u:p,nats://q@h");
        assert!(
            matches!(
                entries.as_slice(),
                [Entry::Invalid {
                    error: UrlError::UserinfoCharacter(','),
                    ..
                }]
            ),
            "{entries:?}"
        );
        // A port, a host without one, or an entry with its `@` ends where the next
        // starts.
        for (value, masked) in [
            (
                "nats://h1:4222,nats://u:p@h2",
                "nats://h1:4222,nats://u:***@h2",
            ),
            ("nats://h1,nats://u:p@h2", "nats://h1,nats://u:***@h2"),
            ("nats://[::1],nats://t@h", "nats://[::1],nats://***@h"),
            (
                "nats://h:$(PORT),nats://t@h",
                "nats://h:$(PORT),nats://***@h",
            ),
            (
                "nats://a:b@h1,nats://c:d@h2",
                "nats://a:***@h1,nats://c:***@h2",
            ),
        ] {
            assert_eq!(mask_credentials(value), masked);
            assert_eq!(parse_server_list(value).len(), 2, "{value}");
        }
    }

    #[test]
    fn a_password_with_a_delimiter_is_reported_without_the_password() {
        let entries = parse_server_list("nats://app:Hunter2#x@nats-server.nats:4222");
        let [Entry::Invalid { error, .. }] = entries.as_slice() else {
            panic!("{entries:?}");
        };
        assert_eq!(*error, UrlError::UserinfoCharacter('#'));
        let message = error.to_string();
        assert!(message.contains("`#`"), "{message}");
        assert!(error.help().is_some_and(|help| help.contains("%23")));
        // A comma in a password does not split the list.
        assert_eq!(parse_server_list("nats://u:a,b@h:4222,nats://h2").len(), 2);
        // Characters every client accepts in a password are fine.
        let server = server("nats://u:p@ss;it's:%40@h:4222");
        assert_eq!(
            server.credentials,
            Some(Credentials::UserPassword {
                user: "u".into(),
                password: "p@ss;it's:%40".into()
            })
        );
    }
}
