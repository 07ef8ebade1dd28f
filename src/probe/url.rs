//! Step `url`: the lint URL rules (ND101-ND108) run over the effective NATS_URL, through
//! the lint engine itself, so `check` and `lint` cannot disagree about a URL. The value
//! becomes a one-container workload: a Kubernetes one in the pod's namespace when the
//! check runs in a pod (so "localhost is the pod itself" applies), the process
//! environment otherwise. `url-credentials-exposed` is left out: at run time the value
//! may well come from a Secret, which the environment cannot tell.
//!
//! Findings that make a server impossible to dial (malformed, unsupported scheme, a port
//! that is not a number) fail the step; the others warn, because the later steps prove
//! whether the server is reached.

use super::{CheckOptions, Detail, Status, StepOutcome};
use crate::connection::ConnectionSettings;
use crate::diagnostic::{Location, Severity};
use crate::lint::context::LintOptions;
use crate::manifest::model::{EnvSource, EnvVar, Inventory, Platform, Value, Workload};
use crate::natsurl::{Entry, Scheme, ServerUrl};
use crate::rules::Selection;
use crate::rules::{
    url_cluster_domain, url_credentials_exposed, url_external_host, url_ip_literal, url_localhost,
    url_malformed, url_port, url_scheme, Rule,
};
use crate::settings::URL_VARIABLE;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// The lint rules that judge a URL's value, run on NATS_URL.
static URL_RULES: [&Rule; 7] = [
    &url_ip_literal::RULE,
    &url_localhost::RULE,
    &url_external_host::RULE,
    &url_scheme::RULE,
    &url_port::RULE,
    &url_malformed::RULE,
    &url_cluster_domain::RULE,
];
/// URL rules left out at run time (see the module documentation).
static LEFT_OUT: [&Rule; 1] = [&url_credentials_exposed::RULE];
/// Rules that mean "this entry cannot be dialled at all".
static BLOCKING: [&Rule; 2] = [&url_scheme::RULE, &url_malformed::RULE];

fn is_one_of(rules: &[&Rule], code: &str) -> bool {
    rules.iter().any(|rule| rule.code == code)
}

/// What `url` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UrlDetail {
    /// The servers of the list that can be probed.
    pub servers: Vec<UrlServer>,
    pub findings: Vec<UrlFinding>,
    /// Servers that cannot be probed for another reason (a WebSocket URL).
    pub problems: Vec<String>,
}

/// A server of the list, as it may be printed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UrlServer {
    pub url: String,
    pub host: String,
    pub port: Option<u16>,
    pub scheme: Option<&'static str>,
    pub credentials_in_url: bool,
}

/// A finding of the URL rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UrlFinding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub help: Option<String>,
}

/// Returns the outcome and the servers that later steps can probe.
pub fn probe(
    connection: &ConnectionSettings,
    options: &CheckOptions,
) -> (StepOutcome<UrlDetail>, Vec<ServerUrl>) {
    let started = Instant::now();
    let value = &connection.settings.url.value;
    let findings = lint_value(value, options);

    let mut servers = Vec::new();
    let mut problems = Vec::new();
    for entry in crate::natsurl::parse_server_list(value) {
        let Entry::Server(server) = entry else {
            continue;
        };
        match (server.scheme.effective(), server.port.number()) {
            (Some(Scheme::Nats | Scheme::Tls), Some(_)) => servers.push(server),
            (Some(Scheme::Ws | Scheme::Wss), _) => problems.push(format!(
                "{}: check speaks the NATS protocol over TCP, not WebSocket",
                server.masked()
            )),
            _ => {}
        }
    }
    let blocking = findings.iter().any(|f| is_one_of(&BLOCKING, f.code));
    let status = if servers.is_empty() || blocking {
        Status::Fail
    } else if !findings.is_empty() || !problems.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let summary = match (status, findings.first()) {
        (Status::Pass, _) => format!(
            "{} server{}, no finding from the URL rules",
            servers.len(),
            if servers.len() == 1 { "" } else { "s" }
        ),
        (_, Some(first)) => format!("{}[{}]: {}", first.severity, first.code, first.message),
        (_, None) => problems
            .first()
            .cloned()
            .unwrap_or_else(|| "no server URL that can be probed".to_string()),
    };
    let detail = UrlDetail {
        servers: servers
            .iter()
            .map(|s| UrlServer {
                url: s.masked(),
                host: s.host.to_string(),
                port: s.port.number(),
                scheme: s.scheme.effective().map(Scheme::as_str),
                credentials_in_url: s.credentials.is_some(),
            })
            .collect(),
        findings: findings
            .iter()
            .map(|f| UrlFinding {
                code: f.code,
                name: f.name,
                severity: f.severity.as_str(),
                message: f.message.clone(),
                help: f.help.clone(),
            })
            .collect(),
        problems,
    };
    let outcome = StepOutcome {
        name: "url",
        status,
        duration: started.elapsed(),
        summary,
        detail: Detail::Found(detail),
    };
    let servers = if blocking {
        // Probe what can be probed only when nothing in the value is broken: a broken
        // list is what the service would fail on first.
        Vec::new()
    } else {
        servers
    };
    (outcome, servers)
}

/// Runs the lint URL rules over `value` as if it were the NATS_URL of this pod.
fn lint_value(value: &str, options: &CheckOptions) -> Vec<crate::diagnostic::Finding> {
    let file: Arc<str> = Arc::from(URL_VARIABLE);
    let location = Location::new(&file, 1, 1);
    let (platform, namespace) = match &options.namespace {
        Some(namespace) => (Platform::Kubernetes, namespace.clone()),
        None => (Platform::ProcessEnv, String::new()),
    };
    let width = u32::try_from(value.chars().count().max(1)).unwrap_or(1);
    let variable = EnvVar {
        name: URL_VARIABLE.into(),
        name_location: location.clone(),
        name_width: 8,
        source: EnvSource::Value(Value {
            text: value.into(),
            location: location.clone(),
            width,
            style: None,
            not_scalar: false,
        }),
    };
    let workload = Workload::environment(
        &file,
        "Pod",
        "this pod".to_string(),
        namespace.clone(),
        platform,
        vec![variable],
    );
    let mut inventory = Inventory::default();
    if !namespace.is_empty() {
        inventory.object_namespaces.insert(namespace.clone());
    }
    inventory.workloads.push(workload);
    inventory.objects = 1;
    let lint_options = LintOptions {
        default_namespace: (!namespace.is_empty()).then_some(namespace),
        cluster_domain: options.cluster_domain.clone(),
        ..LintOptions::default()
    };
    let mut selection = Selection::all();
    selection
        .rules
        .retain(|rule| is_one_of(&URL_RULES, rule.code) && !is_one_of(&LEFT_OUT, rule.code));
    let mut findings = crate::rules::check(&inventory, &lint_options, &selection);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    // A finding of a lower severity than warning says nothing about reaching NATS.
    findings.retain(|f| f.severity >= Severity::Warning);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_rule_is_run_or_left_out_on_purpose() {
        // A new URL rule (ND1xx) must be put in one of the two lists.
        for rule in crate::rules::RULES {
            if rule.code.starts_with("ND1") {
                assert!(
                    is_one_of(&URL_RULES, rule.code) != is_one_of(&LEFT_OUT, rule.code),
                    "{} is in neither or both lists",
                    rule.code
                );
            }
        }
        assert!(BLOCKING.iter().all(|rule| is_one_of(&URL_RULES, rule.code)));
    }
}
