use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::{
    complete_labels, list_workloads, Endpoint, PortCheck, Target, Topology, Work, LISTED,
};
use crate::manifest::model::Labels;
use crate::manifest::model::{Decision, NAMESPACE_NAME_LABEL};
use crate::runbook::{self, Step};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
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
        reads: Topology,
        check: check,
    };
}

struct Blocked {
    clients: Vec<usize>,
    container_port: u16,
}

/// The pods behind a Service port, each with whether its own policies isolate it for
/// ingress, those policies, and the policies across the group's boundary.
type Behind<'t> = (Endpoint<'t>, Vec<(Decision, Vec<usize>, Vec<usize>)>);

/// The NATS pods behind a Service port, with the policies that isolate each of them
/// for ingress and those across the group's boundary that may select it where it is
/// deployed: the same for every client.
fn behind<'t>(
    topology: &'t Topology<'_>,
    service: &'t crate::manifest::model::Service,
    exposed: usize,
    work: &mut Work,
) -> Option<Behind<'t>> {
    let endpoint = topology.service_endpoint(service, &service.ports[exposed]);
    if !work.take(endpoint.candidates.len()) {
        return None;
    }
    let isolation = endpoint
        .candidates
        .iter()
        .map(|candidate| {
            let (isolated, policies) =
                topology.isolating(endpoint.namespace, candidate.labels, false, work);
            // Policies across the boundary that cannot all be looked at may admit
            // anyone: the pod counts as not isolated.
            let (isolated, across) = match topology.policies_across_group(
                endpoint.namespace,
                candidate.labels,
                false,
                work,
            ) {
                Some(across) => (isolated, across),
                None => (Decision::Unknown, Vec::new()),
            };
            (isolated, policies, across)
        })
        .collect();
    (!work.spent()).then_some((endpoint, isolation))
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let shared_services = topology.shared_services(ctx);
    let mut groups: BTreeMap<(usize, usize, u16), Blocked> = BTreeMap::new();
    let mut work = Work::new();
    // For a Service that several servers name, what lies behind each port and how each
    // class of clients fares there, worked out once; other Services' are not kept.
    let mut endpoints: FxHashMap<(usize, usize), Behind<'_>> = FxHashMap::default();
    let mut decided: FxHashMap<(&str, &Labels, usize, usize), Option<usize>> = FxHashMap::default();
    // Per server: clients of one namespace with the same pod labels are admitted alike.
    let mut decisions: FxHashMap<(&str, &Labels), Option<usize>> = FxHashMap::default();
    'servers: for resolved in topology.service_targets(ctx) {
        let Target::Found(service_index) = *resolved.target else {
            continue;
        };
        let clients = topology.clients(resolved.site_index);
        let Some(port) = resolved.server.port.number() else {
            continue;
        };
        if clients.is_empty() {
            continue;
        }
        let service = topology.service(service_index);
        let PortCheck::Exposed(exposed) = topology.port_check(service, port) else {
            continue;
        };
        let shared = shared_services[service_index];
        let own: Behind<'_>;
        let (endpoint, isolation) = if shared {
            if let Entry::Vacant(slot) = endpoints.entry((service_index, exposed)) {
                let Some(found) = behind(topology, service, exposed, &mut work) else {
                    ctx.limit_reached(RULE.stopped(resolved.site));
                    break;
                };
                slot.insert(found);
            }
            &endpoints[&(service_index, exposed)]
        } else {
            let Some(found) = behind(topology, service, exposed, &mut work) else {
                ctx.limit_reached(RULE.stopped(resolved.site));
                break;
            };
            own = found;
            &own
        };
        if !work.take(clients.len()) {
            ctx.limit_reached(RULE.stopped(resolved.site));
            break;
        }
        decisions.clear();
        for &client_index in clients {
            let client = topology.workload(client_index);
            if client.ignores(RULE.code, RULE.name) {
                continue;
            }
            let class = (client.object.namespace.as_str(), &client.pod_labels);
            let known = decisions.get(&class).copied().or_else(|| {
                shared
                    .then(|| decided.get(&(class.0, class.1, service_index, exposed)))
                    .flatten()
                    .copied()
            });
            let blamed = match known {
                Some(blamed) => blamed,
                None => {
                    if !work.take(endpoint.candidates.len()) {
                        ctx.limit_reached(RULE.stopped(resolved.site));
                        break 'servers;
                    }
                    let client_labels = complete_labels(&client.pod_labels);
                    let mut blamed = None;
                    for (candidate, (isolated, policies, across)) in
                        endpoint.candidates.iter().zip(isolation)
                    {
                        let admits = |policies: &[usize]| {
                            topology.ingress_allows(
                                policies,
                                &client.object.namespace,
                                client_labels,
                                candidate,
                            ) != Decision::No
                        };
                        if *isolated != Decision::Yes || admits(policies) || admits(across) {
                            blamed = None;
                            break;
                        }
                        blamed.get_or_insert(policies[0]);
                    }
                    decisions.insert(class, blamed);
                    if shared {
                        decided.insert((class.0, class.1, service_index, exposed), blamed);
                    }
                    blamed
                }
            };
            let Some(blamed) = blamed else {
                continue;
            };
            let container_port = endpoint
                .candidates
                .iter()
                .find_map(|c| c.port)
                .unwrap_or(port);
            groups
                .entry((blamed, service_index, port))
                .or_insert_with(|| Blocked {
                    clients: Vec::new(),
                    container_port,
                })
                .clients
                .push(client_index);
        }
    }
    for blocked in groups.values_mut() {
        blocked.clients.sort_unstable();
        blocked.clients.dedup();
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
        let Some(mut finding) =
            RULE.policy_finding(policy, ingress.location.clone(), ingress.width, message)
        else {
            continue;
        };
        let client_namespaces: BTreeSet<&str> = blocked
            .clients
            .iter()
            .map(|&w| topology.workload(w).object.namespace.as_str())
            .collect();
        let peers: Vec<String> = client_namespaces
            .iter()
            .take(LISTED)
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
        let more = match client_namespaces.len().saturating_sub(LISTED) {
            0 => String::new(),
            more => format!(" (and a peer for each of {more} more namespaces)"),
        };
        finding.help = Some(format!(
            "add to spec.ingress: - {{from: [{}], ports: [{{protocol: TCP, port: {}}}]}}{more}",
            peers.join(", "),
            blocked.container_port
        ));
        // The troubleshooting guide is the documented services' own.
        finding.runbook = blocked
            .clients
            .iter()
            .any(|&w| ctx.documented_workload(w))
            .then(|| {
                runbook::documented_line(
                    Step::NetworkPolicy,
                    &runbook::Names {
                        namespace: namespaces::named(&service.object.namespace),
                        service: Some(service.object.name.to_string()),
                        service_namespace: namespaces::named(&service.object.namespace),
                        port: Some(port),
                        ..runbook::Names::default()
                    },
                )
            });
        finding.relate(&service.object.location, "Service defined here");
        for &w in blocked.clients.iter().take(LISTED) {
            finding.relate(
                &topology.workload(w).object.location,
                "client refused by this policy",
            );
        }
        out.push(finding);
    }
}
