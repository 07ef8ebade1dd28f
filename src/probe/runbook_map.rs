//! Which troubleshooting steps of the documentation a check run points to, filled in
//! with the real names: the pod's namespace, and the Service and its namespace as the
//! URL names them. Only steps that failed or warned contribute, in step order.

use super::{CheckOptions, Outcome, Status};
use crate::connection::Connection;
use crate::natsurl::{self, Entry, HostClass};
use crate::runbook::{self, Names, Step};

pub fn entries(
    steps: &[Outcome],
    connection: &Connection,
    options: &CheckOptions,
) -> Vec<runbook::Entry> {
    let mut chosen: Vec<Step> = Vec::new();
    for step in steps {
        if !matches!(step.status, Status::Fail | Status::Warn) {
            continue;
        }
        for entry in &step.runbook {
            if !chosen.contains(entry) {
                chosen.push(*entry);
            }
        }
    }
    let names = names(connection, options);
    chosen
        .iter()
        .map(|step| {
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

/// The names the commands are filled in with, from the first server of the list.
pub fn names(connection: &Connection, options: &CheckOptions) -> Names {
    let mut names = Names {
        namespace: options.namespace.clone(),
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
