//! Which troubleshooting steps of the documentation a check run points to, and the
//! names they are filled in with: the one mapping from what a step found to the
//! sections of the runbook (`crate::runbook` holds their texts).
//!
//! | what was found | runbook |
//! |---|---|
//! | NATS_URL unset (localhost) or a URL finding | Wrong NATS URL configuration |
//! | NATS_ENABLED neither true nor false | Messages Not Received |
//! | NXDOMAIN or NODATA | NATS Service Not Found, Cross-Namespace NATS Access |
//! | a DNS timeout, an unreachable nameserver, a truncated reply | Network Policy Blocking NATS |
//! | any other DNS failure, pod DNS and getaddrinfo disagreeing | NATS Service Not Found |
//! | TCP refused or reset | NATS Connection Failed |
//! | TCP timed out or unreachable, a step cut off | Network Policy Blocking NATS |
//! | the nats step: see [`for_diagnosis`]; a protocol-sniffing proxy | Network Policy Blocking NATS |
//! | permissions or authorization in the round trip | Credentials and permissions |
//! | messages lost or corrupted in the round trip | Messages Not Received |
//!
//! Only steps that failed or warned contribute, in step order, each section once. The
//! names come from the pod's namespace and the Service and namespace the URL names.

use super::config::ConfigDetail;
use super::dns::{Answer, DnsDetail};
use super::nats::{Diagnosis, NatsDetail};
use super::roundtrip::{ProblemKind, RoundtripDetail};
use super::tcp::{TcpDetail, TcpResult};
use super::{CheckOptions, CheckReport, Detail, Status, StepOutcome};
use crate::connection::{ConnectionSettings, Source};
use crate::natsurl::{self, Entry, HostClass};
use crate::runbook::{self, Names, Origin, Step};

/// The runbook entries of a report, filled in.
pub fn entries(
    report: &CheckReport,
    connection: &ConnectionSettings,
    options: &CheckOptions,
) -> Vec<runbook::Entry> {
    let mut chosen: Vec<Step> = Vec::new();
    let mut add = |steps: Vec<Step>| {
        for step in steps {
            if !chosen.contains(&step) {
                chosen.push(step);
            }
        }
    };
    add(pointed_to(&report.config, for_config));
    add(pointed_to(&report.url, |_| vec![Step::WrongUrl]));
    add(pointed_to(&report.dns, for_dns));
    add(pointed_to(&report.tcp, for_tcp));
    add(pointed_to(&report.nats, for_nats));
    add(pointed_to(&report.roundtrip, for_roundtrip));
    let names = names(connection, options);
    let settings = &connection.settings;
    chosen
        .iter()
        .map(|step| {
            // The commands that show a value name where that value was set.
            let names = match step {
                Step::WrongUrl => Names {
                    origin: Some(origin(&settings.url.source)),
                    ..names.clone()
                },
                Step::MessagesNotReceived => Names {
                    origin: Some(origin(&settings.enabled.source)),
                    ..names.clone()
                },
                _ => names.clone(),
            };
            // A short name only ever resolves in the pod's own namespace; where NATS
            // really lives is what the cross-namespace step is about, so it stays open.
            if *step == Step::CrossNamespace && names.service_namespace == names.namespace {
                let open = Names {
                    service_namespace: Some("<nats-namespace>".to_string()),
                    ..names.clone()
                };
                return runbook::entry(*step, &open);
            }
            runbook::entry(*step, &names)
        })
        .collect()
}

/// Where a setting of the check was set, as the runbook names it. A default is the
/// pod's environment too: that is where the setting is missing.
fn origin(source: &Source) -> Origin {
    match source {
        Source::Flag => Origin::CommandLine,
        Source::EnvFile(path) => Origin::EnvFile(path.display().to_string()),
        Source::Env | Source::Default => Origin::Pod,
    }
}

/// The sections a step points to: none when it passed or was skipped; what a step cut
/// off at the run's limit looks like (a dropped packet) otherwise; else what its own
/// facts point to.
fn pointed_to<D>(step: &StepOutcome<D>, mapping: impl Fn(&D) -> Vec<Step>) -> Vec<Step> {
    if !matches!(step.status, Status::Fail | Status::Warn) {
        return Vec::new();
    }
    match &step.detail {
        Detail::Found(detail) => mapping(detail),
        Detail::CutOff(_) => vec![Step::NetworkPolicy],
        Detail::NotRun => Vec::new(),
    }
}

fn for_config(detail: &ConfigDetail) -> Vec<Step> {
    let mut steps = Vec::new();
    if detail.messaging_enabled && detail.url_is_default() {
        // The services fall back to localhost: inside a pod that is the pod itself.
        steps.push(Step::WrongUrl);
    }
    if !detail.enabled_is_boolean() {
        steps.push(Step::MessagesNotReceived);
    }
    steps
}

fn for_dns(detail: &DnsDetail) -> Vec<Step> {
    let (worst, disagreements) = match detail {
        DnsDetail::Unusable { .. } => return vec![Step::ServiceNotFound],
        DnsDetail::Resolved {
            worst,
            disagreements,
            ..
        } => (worst, disagreements),
    };
    let mut steps = match worst {
        Some(Answer::NxDomain | Answer::NoData) => {
            vec![Step::ServiceNotFound, Step::CrossNamespace]
        }
        // A TCP retry that fails is most often a policy that lets UDP port 53 through
        // and not TCP.
        Some(Answer::Timeout | Answer::Unreachable | Answer::Truncated) => {
            vec![Step::NetworkPolicy]
        }
        Some(Answer::Answered) | None => Vec::new(),
        Some(_) => vec![Step::ServiceNotFound],
    };
    if !disagreements.is_empty() && steps.is_empty() {
        steps.push(Step::ServiceNotFound);
    }
    steps
}

fn for_tcp(detail: &TcpDetail) -> Vec<Step> {
    detail
        .connections
        .iter()
        .filter_map(|connection| match connection.result {
            TcpResult::Connected => None,
            TcpResult::Refused | TcpResult::Reset | TcpResult::Other => {
                Some(Step::ConnectionFailed)
            }
            TcpResult::TimedOut | TcpResult::Unreachable => Some(Step::NetworkPolicy),
        })
        .collect()
}

fn for_nats(detail: &NatsDetail) -> Vec<Step> {
    let mut steps: Vec<Step> = detail
        .diagnoses
        .iter()
        .flat_map(|diagnosis| for_diagnosis(*diagnosis).iter().copied())
        .collect();
    if detail.sniffed() {
        steps.push(Step::NetworkPolicy);
    }
    steps
}

/// The sections a failed NATS handshake points to.
pub fn for_diagnosis(diagnosis: Diagnosis) -> &'static [Step] {
    match diagnosis {
        Diagnosis::HttpPort | Diagnosis::RoutePort | Diagnosis::LeafnodePort => &[Step::WrongUrl],
        Diagnosis::TlsFirst | Diagnosis::TlsRequired | Diagnosis::TlsError => {
            &[Step::WrongUrl, Step::Credentials]
        }
        Diagnosis::AuthorizationViolation | Diagnosis::AuthenticationTimeout => {
            &[Step::Credentials]
        }
        Diagnosis::NoInfo | Diagnosis::Timeout => &[Step::NetworkPolicy, Step::ConnectionFailed],
        Diagnosis::NotNats => &[Step::WrongUrl, Step::ConnectionFailed],
        Diagnosis::ClosedWithoutInfo
        | Diagnosis::MaximumConnections
        | Diagnosis::ServerError
        | Diagnosis::MalformedProtocol
        | Diagnosis::ConnectFailed => &[Step::ConnectionFailed],
    }
}

fn for_roundtrip(detail: &RoundtripDetail) -> Vec<Step> {
    match detail.problem {
        None => Vec::new(),
        Some(ProblemKind::PermissionsViolation | ProblemKind::AuthorizationViolation) => {
            vec![Step::Credentials]
        }
        Some(ProblemKind::MalformedProtocol) => vec![Step::ConnectionFailed],
        Some(_) => vec![Step::MessagesNotReceived],
    }
}

/// The names the commands are filled in with, from the first server of the list.
pub fn names(connection: &ConnectionSettings, options: &CheckOptions) -> Names {
    let mut names = Names {
        namespace: options.namespace.clone(),
        pod: options.pod.clone(),
        ..Names::default()
    };
    let first = natsurl::parse_server_list(&connection.settings.url.value)
        .into_iter()
        .find_map(|entry| match entry {
            Entry::Server(server) => Some(server),
            Entry::Invalid { .. } => None,
        });
    if let Some(server) = first {
        names.port = server.port.number();
        let own = options
            .namespace
            .clone()
            .unwrap_or_else(|| "<namespace>".to_string());
        // A name with a namespace label is taken as `service.namespace`, as in a pod.
        let class = natsurl::classify_host(&server.host, &|_| true);
        if let Some((service, namespace)) = class.service(&own) {
            names.service = Some(service.to_string());
            if namespace != "<namespace>" {
                names.service_namespace = Some(namespace.to_string());
            }
        }
        if !matches!(class, HostClass::Ip { .. }) {
            names.host = Some(server.host.to_string().trim_end_matches('.').to_string());
        }
    }
    names
}
