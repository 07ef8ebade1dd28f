use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::{self, complete_labels, list_workloads, PortCheck, Target};
use crate::manifest::model::{Decision, NAMESPACE_NAME_LABEL};
use crate::runbook::{self, Step};
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// ## What it does
    /// Flags a NetworkPolicy in the NATS Service's namespace that isolates the NATS pods
    /// for ingress when no ingress rule of any policy selecting them admits a NATS
    /// client workload of the input (by its namespace and pod labels) on the NATS port.
    /// The NATS pods are the workloads the Service's selector picks, or, when the input
    /// does not hold them, pods known to carry the selector's labels.
    ///
    /// Objects that name no namespace are deployed together into one namespace chosen
    /// at deploy time: a policy that admits only named namespaces may or may not admit
    /// a client among them, and is not reported for it; policies across that boundary
    /// count as for `egress-blocks-nats`.
    ///
    /// ## Why is this bad?
    /// The server never sees the connection: clients time out while NATS itself looks
    /// healthy, and the extraction events are lost.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: nats-ingress, namespace: nats}
    /// spec:
    ///   podSelector: {matchLabels: {app: nats}}
    ///   ingress:
    ///   - from: [{podSelector: {}}]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    ///   ingress:
    ///   - from: [{podSelector: {}}]
    ///   - from:
    ///     - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: petrosa-apps}}
    ///     ports: [{protocol: TCP, port: 4222}]
    /// ```
    pub(crate) static RULE = {
        code: "ND404",
        name: "ingress-blocks-clients",
        severity: Error,
        summary: "a NetworkPolicy on the NATS pods admits none of the NATS clients",
        check: check,
    };
}

struct Blocked {
    clients: Vec<usize>,
    container_port: u16,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let mut groups: BTreeMap<(usize, usize, u16), Blocked> = BTreeMap::new();
    for connection in &topology.connections {
        let Target::Found(service_index) = connection.target else {
            continue;
        };
        let client = topology.workload(connection.workload);
        if client.ignores(RULE.code, RULE.name) {
            continue;
        }
        let service = topology.service(service_index);
        let PortCheck::Exposed(port) = topology.port_check(service, connection.port) else {
            continue;
        };
        let endpoint = topology.service_endpoint(service, &service.ports[port]);
        let mut blamed = None;
        let mut admitted = false;
        let client_labels = complete_labels(&client.pod_labels);
        for candidate in &endpoint.candidates {
            let (isolated, policies) =
                topology.isolating(endpoint.namespace, candidate.labels, false);
            let admits = |policies: &[usize]| {
                topology.ingress_allows(
                    policies,
                    &client.object.namespace,
                    client_labels,
                    candidate,
                ) != Decision::No
            };
            // Policies across the group's boundary may select the NATS pods where they
            // are deployed, and admit the client.
            if isolated != Decision::Yes
                || admits(&policies)
                || admits(&topology.policies_across_group(
                    endpoint.namespace,
                    candidate.labels,
                    false,
                ))
            {
                admitted = true;
                break;
            }
            blamed.get_or_insert(policies[0]);
        }
        let Some(blamed) = blamed.filter(|_| !admitted) else {
            continue;
        };
        let container_port = endpoint
            .candidates
            .iter()
            .find_map(|c| c.port)
            .unwrap_or(connection.port);
        let group = groups
            .entry((blamed, service_index, connection.port))
            .or_insert_with(|| Blocked {
                clients: Vec::new(),
                container_port,
            });
        if !group.clients.contains(&connection.workload) {
            group.clients.push(connection.workload);
        }
    }
    for ((policy_index, service_index, port), blocked) in groups {
        let policy = topology.policy(policy_index);
        let service = topology.service(service_index);
        let Some(ingress) = &policy.ingress else {
            continue;
        };
        let message = format!(
            "NetworkPolicy `{}` isolates ingress of the NATS pods behind Service `{}` and admits none of its clients on port {port}: {}",
            policy.object.name,
            namespaces::path(&service.object.namespace, &service.object.name),
            list_workloads(topology, &blocked.clients)
        );
        let Some(mut finding) = topology::policy_finding(
            &RULE,
            policy,
            ingress.location.clone(),
            ingress.width,
            message,
        ) else {
            continue;
        };
        let client_namespaces: BTreeSet<&str> = blocked
            .clients
            .iter()
            .map(|&w| topology.workload(w).object.namespace.as_str())
            .collect();
        let peers: Vec<String> = client_namespaces
            .iter()
            .map(|ns| {
                if namespaces::is_group(ns) && namespaces::is_group(&policy.object.namespace) {
                    // The policy's own namespace, whose name the input does not give.
                    "{podSelector: {}}".to_string()
                } else {
                    let name = if namespaces::is_group(ns) { "<namespace>" } else { ns };
                    format!("{{namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {name}}}}}}}")
                }
            })
            .collect();
        finding.help = Some(format!(
            "add to spec.ingress: - {{from: [{}], ports: [{{protocol: TCP, port: {}}}]}}",
            peers.join(", "),
            blocked.container_port
        ));
        finding.runbook = Some(runbook::one_line(
            Step::NetworkPolicy,
            &runbook::Names {
                namespace: namespaces::named(&service.object.namespace),
                service: Some(service.object.name.to_string()),
                service_namespace: namespaces::named(&service.object.namespace),
                port: Some(port),
                ..runbook::Names::default()
            },
        ));
        finding.relate(&service.object.location, "Service defined here");
        for &w in &blocked.clients {
            finding.relate(
                &topology.workload(w).object.location,
                "client refused by this policy",
            );
        }
        out.push(finding);
    }
}
