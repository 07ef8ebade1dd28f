use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::{
    complete_labels, egress_rule_text, list_workloads, Endpoint, PortCheck, Target, Topology, Work,
    LISTED,
};
use crate::manifest::model::Decision;
use crate::runbook::{self, Step};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it does
    /// Flags a NetworkPolicy that isolates a NATS client's pods for egress when no
    /// egress rule of any policy selecting those pods lets TCP through to the NATS
    /// Service's pods on the NATS port. Policies are additive, so the finding is
    /// reported at the first isolating policy, with the rule that would fix it.
    ///
    /// A pod is isolated for egress when a policy selecting it lists `Egress` in
    /// `policyTypes` (or has `egress` rules and no `policyTypes`). Destinations are
    /// matched with `podSelector`, `namespaceSelector` (namespaces carry
    /// `kubernetes.io/metadata.name`), both in one peer, and `ipBlock` (only `0.0.0.0/0`
    /// and `::/0` can be decided; other CIDRs are left alone); ports by number, range
    /// (`endPort`) or container port name. When the input cannot decide, nothing is
    /// reported.
    ///
    /// Objects that name no namespace are deployed together into one namespace chosen
    /// at deploy time. Their policies and their pods meet for certain; a policy of a
    /// named namespace may also select them there (and theirs may select the pods of a
    /// named namespace), so a finding needs such policies, too, to let nothing through.
    /// A `namespaceSelector` cannot tell whether it selects the group's namespace, except
    /// `{}`, which selects every namespace.
    ///
    /// ## Why is this bad?
    /// The packets are dropped: the client's connection attempts time out and the
    /// extraction jobs run without publishing anything.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: extractors-egress, namespace: petrosa-apps}
    /// spec:
    ///   podSelector: {matchLabels: {app: klines-extractor}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - ports: [{protocol: UDP, port: 53}]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    ///   egress:
    ///   - ports: [{protocol: UDP, port: 53}]
    ///   - to:
    ///     - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: nats}}
    ///       podSelector: {matchLabels: {app: nats}}
    ///     ports: [{protocol: TCP, port: 4222}]
    /// ```
    pub(crate) static RULE = {
        code: "ND401",
        name: "egress-blocks-nats",
        severity: Error,
        summary: "a NetworkPolicy's egress rules do not let the client reach NATS",
        reads: Topology,
        check: check,
    };
}

/// Blocked connections grouped by the policy reported and the destination.
type Groups = BTreeMap<(usize, String, String, u16), Blocked>;

struct Blocked {
    workloads: Vec<usize>,
    service: Option<usize>,
    rule: String,
}

/// The egress policies of a client workload isolated for egress: its own, which isolate
/// it, and those across the group's boundary, which may open the way. Workloads with the
/// same lists decide alike: `local` numbers the lists among the clients of one value,
/// `shared` among those of Services that several servers name (given when needed).
struct Isolation {
    policies: Vec<usize>,
    across: Vec<usize>,
    local: usize,
    shared: Option<usize>,
}

/// Whether no rule of `isolation`'s policies lets TCP through to `endpoint`.
fn blocks(topology: &Topology<'_>, isolation: &Isolation, endpoint: &Endpoint<'_>) -> bool {
    topology.egress_allows(&isolation.policies, endpoint, &["TCP"]) == Decision::No
        && topology.egress_allows(&isolation.across, endpoint, &["TCP"]) == Decision::No
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let shared_services = topology.shared_services(ctx);
    let mut groups = Groups::new();
    let mut work = Work::new();
    // Per value: its clients' isolation, numbered by their lists, and per server the
    // decision of each number.
    let mut site = usize::MAX;
    let mut isolation: FxHashMap<usize, Option<Isolation>> = FxHashMap::default();
    let mut local_lists: FxHashMap<(Vec<usize>, Vec<usize>), usize> = FxHashMap::default();
    let mut decisions: FxHashMap<usize, bool> = FxHashMap::default();
    // For a Service that several servers name: the pods behind each port, and whether
    // each list of policies reaches them, worked out once. Other Services' are not kept.
    let mut shared_lists: FxHashMap<(Vec<usize>, Vec<usize>), usize> = FxHashMap::default();
    let mut endpoints: FxHashMap<(usize, usize), Endpoint<'_>> = FxHashMap::default();
    let mut decided: FxHashMap<(usize, usize, usize), bool> = FxHashMap::default();
    'servers: for resolved in topology.service_targets(ctx) {
        let clients = topology.clients(resolved.site_index);
        let Some(port) = resolved.server.port.number() else {
            continue;
        };
        if clients.is_empty() {
            continue;
        }
        if resolved.site_index != site {
            site = resolved.site_index;
            isolation.clear();
            local_lists.clear();
        }
        // The Service's name and namespace, worked out only when needed: for a Service
        // the input does not hold, and for the message of a blocked connection.
        let mut destination = None;
        let unknown_namespace: String;
        let own_endpoint: Endpoint<'_>;
        let (service, shared, endpoint) = match resolved.target {
            Target::Found(index) => {
                let service = topology.service(*index);
                let PortCheck::Exposed(exposed) = topology.port_check(service, port) else {
                    continue;
                };
                let key = (*index, exposed);
                if shared_services[*index] {
                    if let Entry::Vacant(slot) = endpoints.entry(key) {
                        let endpoint = topology.service_endpoint(service, &service.ports[exposed]);
                        if !work.take(endpoint.candidates.len()) {
                            ctx.limit_reached(RULE.stopped(resolved.site));
                            break 'servers;
                        }
                        slot.insert(endpoint);
                    }
                    (Some(*index), Some(key), &endpoints[&key])
                } else {
                    own_endpoint = topology.service_endpoint(service, &service.ports[exposed]);
                    if !work.take(own_endpoint.candidates.len()) {
                        ctx.limit_reached(RULE.stopped(resolved.site));
                        break 'servers;
                    }
                    (Some(*index), None, &own_endpoint)
                }
            }
            Target::Unknown => {
                let found = resolved.service(ctx);
                unknown_namespace = found.2.clone();
                destination = Some(found);
                own_endpoint = topology.unknown_endpoint(&unknown_namespace, port);
                (None, None, &own_endpoint)
            }
            // The name does not resolve: `service-not-found` and
            // `service-other-namespace` say so.
            Target::Missing | Target::OtherNamespace => continue,
        };
        if !work.take(clients.len()) {
            ctx.limit_reached(RULE.stopped(resolved.site));
            break;
        }
        decisions.clear();
        for &client in clients {
            let workload = topology.workload(client);
            if workload.ignores(RULE.code, RULE.name) {
                continue;
            }
            let isolated = isolation.entry(client).or_insert_with(|| {
                let labels = complete_labels(&workload.pod_labels);
                let namespace = &workload.object.namespace;
                let (isolated, policies) = topology.egress_isolation(client, &mut work);
                if isolated != Decision::Yes {
                    return None;
                }
                let across = topology.policies_across_group(namespace, labels, true, &mut work)?;
                let next = local_lists.len();
                let local = *local_lists
                    .entry((policies.clone(), across.clone()))
                    .or_insert(next);
                Some(Isolation {
                    policies,
                    across,
                    local,
                    shared: None,
                })
            });
            if work.spent() {
                ctx.limit_reached(RULE.stopped(resolved.site));
                break 'servers;
            }
            let Some(isolated) = isolated else {
                continue;
            };
            let blocked = match decisions.get(&isolated.local) {
                Some(&blocked) => blocked,
                None => {
                    let known = shared.and_then(|(index, exposed)| {
                        let list = *isolated.shared.get_or_insert_with(|| {
                            let next = shared_lists.len();
                            *shared_lists
                                .entry((isolated.policies.clone(), isolated.across.clone()))
                                .or_insert(next)
                        });
                        decided.get(&(list, index, exposed)).copied()
                    });
                    let blocked = match known {
                        Some(blocked) => blocked,
                        None => {
                            // Judging policies against the pods behind a Service looks at
                            // each pod.
                            if !work.take(endpoint.candidates.len()) {
                                ctx.limit_reached(RULE.stopped(resolved.site));
                                break 'servers;
                            }
                            let blocked = blocks(topology, isolated, endpoint);
                            if let (Some((index, exposed)), Some(list)) = (shared, isolated.shared)
                            {
                                decided.insert((list, index, exposed), blocked);
                            }
                            blocked
                        }
                    };
                    decisions.insert(isolated.local, blocked);
                    blocked
                }
            };
            if !blocked {
                continue;
            }
            let (_, name, namespace) = destination.get_or_insert_with(|| resolved.service(ctx));
            let group = groups
                .entry((isolated.policies[0], namespace.clone(), name.clone(), port))
                .or_insert_with(|| {
                    let container_port = endpoint
                        .candidates
                        .iter()
                        .find_map(|c| c.port)
                        .unwrap_or(port);
                    let selector = service.map(|s| &topology.service(s).selector);
                    Blocked {
                        workloads: Vec::new(),
                        service,
                        rule: egress_rule_text(namespace, selector, container_port, "TCP"),
                    }
                });
            group.workloads.push(client);
        }
    }
    for blocked in groups.values_mut() {
        blocked.workloads.sort_unstable();
        blocked.workloads.dedup();
    }
    for ((policy_index, namespace, name, port), blocked) in groups {
        let policy = topology.policy(policy_index);
        let Some(egress) = &policy.egress else {
            continue;
        };
        // A Service of the group is named as its clients in the group name it.
        let address = if namespaces::is_group(&namespace) {
            format!("{name}:{port}")
        } else {
            format!("{name}.{namespace}:{port}")
        };
        let message = format!(
            "NetworkPolicy `{}` isolates egress of {}; no egress rule allows TCP to NATS at `{address}`",
            policy.object.name,
            list_workloads(topology, &blocked.workloads)
        );
        let Some(mut finding) =
            RULE.policy_finding(policy, egress.location.clone(), egress.width, message)
        else {
            continue;
        };
        finding.help = Some(format!("add to spec.egress: - {}", blocked.rule));
        // The troubleshooting guide is the documented services' own.
        finding.runbook = blocked
            .workloads
            .iter()
            .any(|&w| ctx.documented_workload(w))
            .then(|| {
                runbook::documented_line(
                    Step::NetworkPolicy,
                    &runbook::Names {
                        namespace: namespaces::named(&policy.object.namespace),
                        service: Some(name.clone()),
                        service_namespace: namespaces::named(&namespace),
                        port: Some(port),
                        ..runbook::Names::default()
                    },
                )
            });
        if let Some(service) = blocked.service {
            finding.relate(
                &topology.service(service).object.location,
                "Service defined here",
            );
        }
        for &w in blocked.workloads.iter().take(LISTED) {
            finding.relate(
                &topology.workload(w).object.location,
                "pods blocked by this policy",
            );
        }
        out.push(finding);
    }
}
