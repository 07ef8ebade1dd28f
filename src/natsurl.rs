//! The one NATS server-list parser and host classifier. `lint` uses it to judge a
//! configured value; `check` uses it to decide what to resolve and dial. Nothing else
//! in the crate splits or parses a NATS URL.
//!
//! A value is a comma-separated list of servers (`nats://a:4222,nats://b:4222`); each
//! entry has an optional scheme, optional credentials (`user:pass@` or `token@`), a
//! host (name, IPv4 or bracketed IPv6) and an optional port.
//!
//! It also owns where credentials are in a URL, in a configured value and in free
//! text (`find_userinfo`, `mask_credentials`, `mask_credentials_in_text`): the userinfo
//! is found before anything else is parsed, so nothing but `Credentials` ever holds it.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The port a NATS client dials when the URL names none.
pub const DEFAULT_PORT: u16 = 4222;
/// What the services use when `NATS_URL` is unset.
pub const DEFAULT_URL: &str = "nats://localhost:4222";

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

/// Where an IP address points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpRange {
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
    Public,
}

impl IpRange {
    pub fn describe(self) -> &'static str {
        match self {
            IpRange::Loopback => "a loopback address",
            IpRange::Private => {
                "a private address (a pod or ClusterIP that changes when it is recreated)"
            }
            IpRange::LinkLocal => "a link-local address",
            IpRange::Unspecified => "the unspecified address",
            IpRange::Public => "a public address outside the cluster",
        }
    }
}

/// Classifies an IP address with the IANA special-purpose ranges that matter here.
pub fn ip_range(ip: IpAddr) -> IpRange {
    const V4: &[(Ipv4Net, IpRange)] = &[
        (net4(0, 0, 0, 0, 32), IpRange::Unspecified),
        (net4(127, 0, 0, 0, 8), IpRange::Loopback),
        (net4(10, 0, 0, 0, 8), IpRange::Private),
        (net4(172, 16, 0, 0, 12), IpRange::Private),
        (net4(192, 168, 0, 0, 16), IpRange::Private),
        (net4(100, 64, 0, 0, 10), IpRange::Private),
        (net4(169, 254, 0, 0, 16), IpRange::LinkLocal),
    ];
    match ip {
        IpAddr::V4(v4) => V4
            .iter()
            .find(|(net, _)| net.contains(&v4))
            .map_or(IpRange::Public, |(_, range)| *range),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return ip_range(IpAddr::V4(v4));
            }
            let in_net = |text: &str| text.parse::<Ipv6Net>().is_ok_and(|net| net.contains(&v6));
            if v6.is_unspecified() {
                IpRange::Unspecified
            } else if v6.is_loopback() {
                IpRange::Loopback
            } else if in_net("fc00::/7") {
                IpRange::Private
            } else if in_net("fe80::/10") {
                IpRange::LinkLocal
            } else {
                IpRange::Public
            }
        }
    }
}

const fn net4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    match Ipv4Net::new(Ipv4Addr::new(a, b, c, d), prefix) {
        Ok(net) => net,
        Err(_) => panic!("invalid prefix length in a constant network"),
    }
}

/// Whether `ip` lies in `net` (for callers that hold an [`IpNet`]).
pub fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip)
}

/// What a host names, seen from a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostClass {
    Ip {
        address: IpAddr,
        range: IpRange,
    },
    /// `localhost`, `*.localhost`: the pod itself.
    Localhost,
    /// `nats-server`: a Service in the pod's own namespace.
    Short {
        service: String,
    },
    /// `nats-server.nats` or `nats-server.nats.svc`.
    Namespaced {
        service: String,
        namespace: String,
    },
    /// `nats-server.nats.svc.cluster.local` (any domain after `svc`; compare it with
    /// the cluster domain). `subdomain` holds StatefulSet pod names (`nats-0`).
    ClusterFqdn {
        service: String,
        namespace: String,
        domain: String,
        subdomain: Option<String>,
    },
    /// A DNS name outside the cluster.
    External,
}

impl HostClass {
    /// The Service and the namespace it is looked up in, for names that point at one.
    /// `own_namespace` is the namespace of the pod that resolves a short name.
    pub fn service<'a>(&'a self, own_namespace: &'a str) -> Option<(&'a str, &'a str)> {
        match self {
            HostClass::Short { service } => Some((service, own_namespace)),
            HostClass::Namespaced { service, namespace }
            | HostClass::ClusterFqdn {
                service, namespace, ..
            } => Some((service, namespace)),
            _ => None,
        }
    }
}

/// Classifies a host. `is_known_namespace` answers for namespaces seen in the input or
/// given on the command line; it decides `name.ns` versus `host.tld`.
pub fn classify_host(host: &Host, is_known_namespace: &dyn Fn(&str) -> bool) -> HostClass {
    let name = match host {
        Host::Ip(address) => {
            return HostClass::Ip {
                address: *address,
                range: ip_range(*address),
            }
        }
        Host::Name { name, .. } => name,
    };
    let labels: Vec<&str> = name.split('.').collect();
    if labels.last() == Some(&"localhost") {
        return HostClass::Localhost;
    }
    if let Some(svc) = labels.iter().position(|label| *label == "svc") {
        if svc >= 2 {
            let service = labels[svc - 2].to_string();
            let namespace = labels[svc - 1].to_string();
            let subdomain = (svc > 2).then(|| labels[..svc - 2].join("."));
            if svc + 1 == labels.len() && subdomain.is_none() {
                return HostClass::Namespaced { service, namespace };
            }
            return HostClass::ClusterFqdn {
                service,
                namespace,
                domain: labels[svc + 1..].join("."),
                subdomain,
            };
        }
    }
    match labels.as_slice() {
        [service] => HostClass::Short {
            service: service.to_string(),
        },
        [service, namespace]
            if is_known_namespace(namespace) || !is_top_level_domain(namespace) =>
        {
            HostClass::Namespaced {
                service: service.to_string(),
                namespace: namespace.to_string(),
            }
        }
        _ => HostClass::External,
    }
}

/// Whether `label` is a top-level domain on the Public Suffix List (ICANN or private
/// section), so that `nats.io` is a website while `nats-server.nats` is a Service.
pub fn is_top_level_domain(label: &str) -> bool {
    match psl::suffix(label.as_bytes()) {
        Some(suffix) => suffix.typ().is_some() && suffix.as_bytes() == label.as_bytes(),
        None => false,
    }
}

/// Where the userinfo of one server entry lies in a text: `start..end` is everything
/// between the entry start and its last `@` (the `@` excluded); `secret..end` is what is
/// never shown: the part after the first `:`, or all of it for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Userinfo {
    pub start: usize,
    pub secret: usize,
    pub end: usize,
}

/// The userinfo of every entry of a configured server list, found before anything else
/// is parsed, so that no later step can quote a secret.
///
/// nats.go (Go's `net/url`), nats.py (`urllib.parse`) and async-nats (WHATWG URL) all
/// take the userinfo up to the last `@` of the authority, and end the authority at the
/// first `/`, `?` or `#`. A password holding one of those is therefore read wrongly by
/// every client, and its pieces would show up as a host, a port or a path. This is more
/// generous than any of them: an entry starts at the start of the value or after a
/// `scheme://` that follows a separator (start, space, `,`, `;`, a quote, `=`, a
/// bracket) and ends an entry that can end there (one with its `@`, a port or no `:`;
/// not `nats://app:pa` before `,nats://…@`, which may be a password holding
/// `,nats://`), and everything from there to the last `@` before the next entry start
/// is userinfo, whatever it contains (`#`, `/`, `?`, `,`, `;`, spaces, quotes, newlines,
/// more `@`s).
pub fn find_userinfo(value: &str) -> Vec<Userinfo> {
    userinfo_spans(value, true)
}

/// The userinfo of every `scheme://…@` in free text (a source line, an error text from a
/// server or a library). Unlike [`find_userinfo`], text before the first `scheme://` is
/// not taken as an entry: free text is not a server list.
pub fn find_userinfo_in_text(text: &str) -> Vec<Userinfo> {
    userinfo_spans(text, false)
}

fn is_scheme_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.')
}

/// What may stand before a `scheme://` that starts a new entry. A `:` or `@` may not: a
/// password such as `a://b` must not end the userinfo before it.
fn is_entry_separator(byte: u8) -> bool {
    byte.is_ascii_whitespace()
        || matches!(
            byte,
            b',' | b';' | b'"' | b'\'' | b'`' | b'=' | b'(' | b'[' | b'{' | b'<' | b'|' | b'>'
        )
}

/// Whether `entry` (from an entry's start to the separator before a `scheme://`) can
/// end there. An entry with no `@` whose last `:` is followed by something other than a
/// port (`nats://app:pa,ss` before `nats://x@host`) may be a user and the start of a
/// password that holds `,scheme://`: the entry goes on, so that the whole password is
/// userinfo (and the parser reports the `,` in it). A port (digits, a `$(VAR)`), a host
/// without a port, or an entry with its `@` ends there.
fn ends_an_entry(entry: &str) -> bool {
    let entry = entry.trim_end_matches(|c: char| c.is_ascii() && is_entry_separator(c as u8));
    if entry.contains('@') {
        return true;
    }
    // A bracketed IPv6 host holds colons of its own.
    let tail = entry.rfind(']').map_or(entry, |at| &entry[at + 1..]);
    match tail.rfind(':') {
        Some(at) => {
            let port = &tail[at + 1..];
            port.bytes().all(|b| b.is_ascii_digit()) || port.starts_with('$')
        }
        None => true,
    }
}

fn userinfo_spans(text: &str, value_start_is_entry: bool) -> Vec<Userinfo> {
    let bytes = text.as_bytes();
    // Each entry as (where the previous one must end, where this one starts).
    let mut entries: Vec<(usize, usize)> = Vec::new();
    if value_start_is_entry {
        entries.push((0, 0));
    }
    let mut search = 0;
    while let Some(found) = text.get(search..).and_then(|rest| rest.find("://")) {
        let at = search + found;
        let mut scheme_start = at;
        while scheme_start > 0 && is_scheme_byte(bytes[scheme_start - 1]) {
            scheme_start -= 1;
        }
        // A scheme starts with a letter (`://` alone, or `1://`, is no scheme).
        let has_scheme = bytes[scheme_start..at]
            .first()
            .is_some_and(u8::is_ascii_alphabetic);
        let after_separator = scheme_start == 0 || is_entry_separator(bytes[scheme_start - 1]);
        let previous_is_complete = entries.last().is_none_or(|&(_, previous_start)| {
            ends_an_entry(&text[previous_start.min(scheme_start)..scheme_start])
        });
        if has_scheme && after_separator && previous_is_complete {
            entries.push((scheme_start, at + 3));
        }
        search = at + 3;
    }
    let mut spans = Vec::new();
    for (index, &(_, start)) in entries.iter().enumerate() {
        let end = entries
            .get(index + 1)
            .map_or(text.len(), |&(boundary, _)| boundary);
        if end <= start {
            continue;
        }
        let Some(at) = text[start..end].rfind('@') else {
            continue;
        };
        if at == 0 {
            continue;
        }
        let userinfo = &text[start..start + at];
        let secret = userinfo.find(':').map_or(start, |colon| start + colon + 1);
        spans.push(Userinfo {
            start,
            secret,
            end: start + at,
        });
    }
    spans
}

/// `text` with the secret part of every span replaced by `***`.
fn replace_secrets(text: &str, spans: &[Userinfo]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        out.push_str(&text[copied..span.secret]);
        out.push_str("***");
        copied = span.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A configured server list as it may be printed: the secret part of every entry's
/// userinfo is `***` (`nats://app:***@nats:4222`, `nats://***@nats` for a token), the
/// rest exactly as written.
pub fn mask_credentials(value: &str) -> String {
    replace_secrets(value, &find_userinfo(value))
}

/// Free text (a source line, an error text) with the secret part of every URL's
/// userinfo replaced by `***`. Lists separated by `,`, `;` or spaces, quoted URLs and
/// passwords holding any of those are handled as in [`find_userinfo`].
pub fn mask_credentials_in_text(text: &str) -> String {
    let spans = find_userinfo_in_text(text);
    if spans.is_empty() {
        return text.to_string();
    }
    replace_secrets(text, &spans)
}

/// `value` with every byte of every userinfo replaced by `*`: the same length and the
/// same positions, so that the server list can be split and parsed from it without the
/// parser ever holding a secret (`,` `/` `#` `@` in a password no longer split it).
fn blank_userinfo<'v>(value: &'v str, spans: &[Userinfo]) -> std::borrow::Cow<'v, str> {
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut bytes = value.as_bytes().to_vec();
    for span in spans {
        bytes[span.start..span.end].fill(b'*');
    }
    // Spans start and end at ASCII characters, so whole characters were replaced.
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| "*".repeat(value.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(text: &str) -> ServerUrl {
        parse_server(text, 0).expect("parses")
    }

    fn class(text: &str) -> HostClass {
        classify_host(&server(text).host, &|ns| ns == "petrosa-apps")
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
    const HOSTILE: &[&str] = &[
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
    fn userinfo_is_found_up_to_the_last_at_sign_whatever_it_holds() {
        for password in HOSTILE {
            for value in [
                format!("nats://app:{password}@nats-server.nats:4222"),
                format!("app:{password}@nats-server.nats:4222"),
                format!("nats://h1:4222,nats://app:{password}@h2:4222"),
                format!("nats://app:{password}@h1:4222,nats://h2:4222"),
                format!("nats://a:b@h1:4222;nats://app:{password}@h2:4222"),
                format!("tls://app:{password}@h1 nats://app:{password}@h2"),
                format!("nats://{password}@h"),
            ] {
                let masked = mask_credentials(&value);
                assert!(!masked.contains(password), "{value} -> {masked}");
                // Free text has no entry start but `scheme://`.
                if value.contains("://") && !value.starts_with("app:") {
                    let text = format!("  NATS_URL: \"{value}\"  # x");
                    let masked = mask_credentials_in_text(&text);
                    assert!(!masked.contains(password), "{text} -> {masked}");
                }
                for entry in parse_server_list(&value) {
                    let shown = match entry {
                        Entry::Server(server) => format!("{server:?} {}", server.masked()),
                        Entry::Invalid { error, .. } => error.to_string(),
                    };
                    assert!(!shown.contains(password), "{value} -> {shown}");
                }
            }
        }
    }

    #[test]
    fn masking_keeps_the_user_and_everything_but_the_secret() {
        assert_eq!(
            mask_credentials("nats://app:Hunter2#x@nats-server.nats:4222"),
            "nats://app:***@nats-server.nats:4222"
        );
        assert_eq!(mask_credentials("app:p,w@h:1,h2"), "app:***@h:1,h2");
        assert_eq!(
            mask_credentials("nats://h1,nats://t0k@h2"),
            "nats://h1,nats://***@h2"
        );
        assert_eq!(
            mask_credentials_in_text("see nats://u:p@h1;tls://v:q@h2 and admin@example.com"),
            "see nats://u:***@h1;tls://v:***@example.com"
        );
        assert_eq!(mask_credentials_in_text("no URL: a@b"), "no URL: a@b");
    }

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

    #[test]
    fn classifies_hosts_as_a_pod_resolves_them() {
        assert_eq!(
            class("nats://nats-server"),
            HostClass::Short {
                service: "nats-server".into()
            }
        );
        assert_eq!(
            class("nats://nats-server.nats"),
            HostClass::Namespaced {
                service: "nats-server".into(),
                namespace: "nats".into()
            }
        );
        assert_eq!(class("nats://external-server.com"), HostClass::External);
        assert_eq!(class("nats://nats.example.org"), HostClass::External);
        assert_eq!(class("nats://localhost"), HostClass::Localhost);
        assert!(matches!(
            class("nats://nats-0.nats-headless.nats.svc.cluster.local."),
            HostClass::ClusterFqdn { ref subdomain, ref domain, .. }
                if subdomain.as_deref() == Some("nats-0") && domain == "cluster.local"
        ));
        assert!(matches!(
            class("nats://192.168.194.253:4222"),
            HostClass::Ip {
                range: IpRange::Private,
                ..
            }
        ));
        assert!(matches!(
            class("nats://[::1]:4222"),
            HostClass::Ip {
                range: IpRange::Loopback,
                ..
            }
        ));
    }

    #[test]
    fn top_level_domains_come_from_the_public_suffix_list() {
        assert!(is_top_level_domain("com"));
        assert!(is_top_level_domain("io"));
        assert!(!is_top_level_domain("nats"));
        assert!(!is_top_level_domain("petrosa-apps"));
    }
}
