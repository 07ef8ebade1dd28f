//! The command line, as the user types it. Values are validated here (durations,
//! addresses, ranges); the objects the commands work with are built from them in
//! `crate::commands`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  nothing at or above --fail-on / every check step passed
  1  findings at or above --fail-on / a check step failed
  2  usage error, or an input that could not be read or parsed";

pub const LINT_EXIT_CODES: &str = "\
Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage error, or an input that could not be read or parsed (the rest is still linted)";

#[derive(Debug, Parser)]
#[command(
    name = "nats-doctor",
    version,
    about = "Tells whether NATS-connected services on Kubernetes will reach NATS, and if not, exactly why",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// `--color` before the command name, as earlier versions took it: the same as after
    /// it, for the commands that print colours. Hidden: each such command lists its own.
    #[arg(long, value_enum, hide = true, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// `-q` before the command name, as earlier versions took it: the same as after it,
    /// for the commands that have it.
    #[arg(short, long, hide = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Always,
    Auto,
    Never,
}

/// `--color`, flattened into the commands whose text output has colours (lint, check,
/// test-messaging, watch, rules); the others print none and do not take it.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct ColorArgs {
    /// When to use colours in text output [default: auto: on a terminal, unless NO_COLOR
    /// is set].
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose, from inside a pod, whether this service reaches NATS: config, URL, DNS,
    /// TCP, NATS handshake and a publish/subscribe round trip.
    // Boxed: its flags make it much larger than the other variants.
    Check(Box<CheckArgs>),
    /// Print a shell completion script (bash, zsh or fish) to standard output.
    Completions(CompletionsArgs),
    /// The rule's full documentation (by code or name).
    Explain(ExplainArgs),
    /// Lint manifests, compose files and .env files for NATS settings that will fail.
    Lint(LintArgs),
    /// Print the man page (roff) of nats-doctor or of one of its commands.
    Man(ManArgs),
    /// List every rule: code, name, severity, one line.
    Rules(RulesArgs),
    /// Publish the four sample extraction events and prove they arrive intact.
    TestMessaging(TestMessagingArgs),
    /// Subscribe to extraction events and validate each one.
    Watch(WatchArgs),
}

impl Command {
    /// The name the command is typed with.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Completions(_) => "completions",
            Command::Explain(_) => "explain",
            Command::Lint(_) => "lint",
            Command::Man(_) => "man",
            Command::Rules(_) => "rules",
            Command::TestMessaging(_) => "test-messaging",
            Command::Watch(_) => "watch",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Github,
    Json,
    Sarif,
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Info,
    Never,
    Warning,
}

#[derive(Debug, Args)]
#[command(after_help = LINT_EXIT_CODES)]
pub struct LintArgs {
    /// Files or directories (walked recursively); `-` reads standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Cluster domain that Service FQDNs end in.
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    pub cluster_domain: String,

    /// Turn rules off (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    pub disable: Vec<String>,

    /// Run only these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    pub enable: Vec<String>,

    /// Also lint the current process environment, as the app would see it.
    #[arg(long)]
    pub env: bool,

    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// `--set K=V` for `helm template` when charts are rendered (repeatable).
    #[arg(long = "helm-set", value_name = "K=V")]
    pub helm_set: Vec<String>,

    /// A values file for `helm template` when charts are rendered (repeatable; later
    /// files win).
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,

    /// A namespace that exists in the cluster although the input does not mention it.
    #[arg(long = "known-namespace", value_name = "NS")]
    pub known_namespaces: Vec<String>,

    /// Namespace of objects that name none (also the release namespace charts are
    /// rendered with). Without it they are one group deployed into a namespace chosen at
    /// deploy time, which the input does not name.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The Service that runs NATS, as NAMESPACE/NAME, for the suggested fixes (default:
    /// the input's Service that selects NATS server pods on port 4222 or a port named
    /// client; a placeholder when it has none).
    #[arg(long = "nats-service", value_name = "NAMESPACE/NAME", value_parser = parse_nats_service)]
    pub nats_service: Option<(String, String)>,

    /// Walk directories without honouring .gitignore and .ignore files.
    #[arg(long)]
    pub no_ignore: bool,

    /// Release name charts are rendered with (default: the chart's name).
    #[arg(long, value_name = "NAME")]
    pub release_name: Option<String>,

    /// A chart or overlay that cannot be rendered (no helm, kustomize or kubectl on PATH)
    /// is an input error instead of a note.
    #[arg(long)]
    pub require_render: bool,

    /// Report refs to ConfigMaps/Secrets in namespaces the input does not cover.
    #[arg(long)]
    pub strict_refs: bool,

    /// Another variable that holds a NATS URL (repeatable).
    #[arg(long = "url-var", value_name = "NAME")]
    pub url_vars: Vec<String>,

    /// List every skipped file, and why, on standard error.
    #[arg(short, long)]
    pub verbose: bool,

    /// Findings only: no summary line.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub color: ColorArgs,
}

/// `NAMESPACE/NAME`, both non-empty.
fn parse_nats_service(text: &str) -> Result<(String, String), String> {
    match text.split_once('/') {
        Some((namespace, name))
            if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
        {
            Ok((namespace.to_string(), name.to_string()))
        }
        _ => Err("expected NAMESPACE/NAME, as nats/nats".to_string()),
    }
}

pub const CHECK_EXIT_CODES: &str = "\
Exit codes:
  0  every check step passed
  1  a check step failed
  2  usage error, or settings that could not be read
  --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not run)
  --format prometheus: 0 once the metrics are written (the verdict is in them)";

#[derive(Debug, Args)]
#[command(after_help = CHECK_EXIT_CODES)]
pub struct CheckArgs {
    /// Server URL(s), comma-separated: the same as --url (give one or the other).
    #[arg(value_name = "URL", conflicts_with = "url")]
    pub server: Option<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Cluster domain that Service FQDNs end in.
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    pub cluster_domain: String,

    /// Messages in the round trip.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub count: u32,

    /// Output format. `nagios` exits 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN);
    /// `prometheus` is for the node-exporter textfile collector.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    /// Write the report to FILE instead of standard output, atomically (a temporary file
    /// in the same directory, then renamed): for the node-exporter textfile collector.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// A nameserver to ask instead of those in resolv.conf (IP:PORT or IP).
    #[arg(long, value_name = "IP:PORT", value_parser = parse_nameserver)]
    pub nameserver: Option<std::net::SocketAddr>,

    /// Do not compare with the system resolver (getaddrinfo).
    #[arg(long)]
    pub no_system_resolver: bool,

    /// resolv.conf with the nameservers, search list, ndots, timeout and attempts.
    #[arg(long, default_value = "/etc/resolv.conf", value_name = "FILE")]
    pub resolv_conf: PathBuf,

    /// Subject for the round trip (default: a private `_nats_doctor.<random>`).
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,

    /// Text output: only the steps that failed or warned, and the runbook.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub color: ColorArgs,

    // Last: the help heading of the thresholds would apply to flags after them.
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

fn parse_nameserver(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(address) = text.parse::<std::net::SocketAddr>() {
        return Ok(address);
    }
    text.parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| "not IP, IP:PORT or [IPv6]:PORT".to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Json,
    Nagios,
    Prometheus,
    Text,
}

/// Warning and critical limits of `check --format nagios` (as `nats server check
/// connection`): a value at or above the limit gives that status.
#[derive(Clone, Copy, Debug, Args)]
#[command(next_help_heading = "Thresholds (--format nagios)")]
pub struct ThresholdArgs {
    /// Connect time (DNS, TCP, NATS handshake) that gives CRITICAL.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub connect_critical: std::time::Duration,

    /// Connect time that gives WARNING.
    #[arg(long, default_value = "500ms", value_name = "DURATION", value_parser = parse_duration)]
    pub connect_warn: std::time::Duration,

    /// PING/PONG round-trip time that gives CRITICAL.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub rtt_critical: std::time::Duration,

    /// PING/PONG round-trip time that gives WARNING.
    #[arg(long, default_value = "500ms", value_name = "DURATION", value_parser = parse_duration)]
    pub rtt_warn: std::time::Duration,
}

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

/// Parses a duration as humantime reads one (`3s`, `500ms`, `1.5s`, `5m`, `1m30s`,
/// `1h`), or a bare number of seconds (`2`); more than 0 and at most an hour.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    // The messages do not repeat the text: the command-line parser shows it (escaped).
    const NOT_A_DURATION: &str = "not a duration (examples: 3s, 500ms, 1m30s)";
    const OUT_OF_RANGE: &str = "must be more than 0 and at most 1 hour";
    let text = text.trim();
    let duration = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = text.parse().map_err(|_| NOT_A_DURATION.to_string())?;
        if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
            return Err(OUT_OF_RANGE.to_string());
        }
        Duration::from_secs_f64(seconds)
    } else {
        humantime::parse_duration(text).map_err(|error| match error {
            humantime::DurationError::UnknownUnit { .. } => {
                "unknown unit (use ms, s, m or h)".to_string()
            }
            _ => NOT_A_DURATION.to_string(),
        })?
    };
    if duration.is_zero() || duration > Duration::from_secs(3600) {
        return Err(OUT_OF_RANGE.to_string());
    }
    Ok(duration)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,

    #[command(flatten)]
    pub color: ColorArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule code (ND101) or name (url-ip-literal).
    pub rule: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Fish,
    Zsh,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command whose page to print (default: the page of nats-doctor itself).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessagingFormat {
    Json,
    Text,
}

pub const TEST_MESSAGING_EXIT_CODES: &str = "\
Exit codes:
  0  every case arrived once, intact and valid (or NATS_ENABLED is not true)
  1  a case was lost, duplicated, corrupted or invalid, the server refused it, or no
     connection could be made
  2  usage error, or settings that could not be read or used";

#[derive(Debug, Args)]
#[command(after_help = TEST_MESSAGING_EXIT_CODES)]
pub struct TestMessagingArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = MessagingFormat::Text)]
    pub format: MessagingFormat,

    /// Publish under the configured NATS_SUBJECT_PREFIX, where live consumers receive
    /// the test events, instead of a private `_nats_doctor.<random>.<prefix>` sandbox
    /// (which `nats-doctor watch --sandbox` follows).
    #[arg(long)]
    pub live: bool,

    /// Text output: only the cases that failed.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub color: ColorArgs,
}

pub const WATCH_EXIT_CODES: &str = "\
Exit codes:
  0  every message received was a valid extraction event
  1  a message was invalid, messages were dropped (slow consumer), the connection was
     lost (even if regained: what was published meanwhile is not replayed), or no
     connection could be made
  2  usage error, or settings that could not be read or used";

#[derive(Debug, Args)]
#[command(after_help = WATCH_EXIT_CODES)]
pub struct WatchArgs {
    /// Subject or wildcard to watch; default `{NATS_SUBJECT_PREFIX}.>`.
    #[arg(conflicts_with = "sandbox")]
    pub subject: Option<String>,

    /// Follow the sandbox runs of `test-messaging` (which publishes under
    /// `_nats_doctor.<random>.{NATS_SUBJECT_PREFIX}`, not where the services publish):
    /// watch `_nats_doctor.*.{NATS_SUBJECT_PREFIX}.>`.
    #[arg(long)]
    pub sandbox: bool,

    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Stop after this many messages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Stop after this long (e.g. 30s, 5m, 1m30s, 1h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Output format: text lines, or one JSON object per message and a summary object.
    #[arg(long, value_enum, default_value_t = MessagingFormat::Text)]
    pub format: MessagingFormat,

    /// How long to try to reconnect when the connection is lost (e.g. 30s, 2m);
    /// after that the watch ends with exit code 1.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub reconnect_window: Duration,

    /// Only the invalid messages (text) and no notes on standard error.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub color: ColorArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(
            parse_duration("3 fortnights"),
            Err("unknown unit (use ms, s, m or h)".to_string())
        );
    }
}
