use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::{
    self, complete_labels, egress_rule_text, list_workloads, PortCheck, Target,
};
use crate::manifest::model::Decision;
use crate::runbook::{self, Step};
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

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let mut groups = Groups::new();
    for connection in &topology.connections {
        let workload = topology.workload(connection.workload);
        if workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        let (service, endpoint) = match &connection.target {
            Target::Found(index) => {
                let service = topology.service(*index);
                let PortCheck::Exposed(port) = topology.port_check(service, connection.port) else {
                    continue;
                };
                (
                    Some(*index),
                    topology.service_endpoint(service, &service.ports[port]),
                )
            }
            Target::Unknown => (
                None,
                topology.unknown_endpoint(&connection.service_namespace, connection.port),
            ),
            // The name does not resolve: `service-not-found` and
            // `service-other-namespace` say so.
            Target::Missing | Target::OtherNamespace(_) => continue,
        };
        let labels = complete_labels(&workload.pod_labels);
        let namespace = &workload.object.namespace;
        let (isolated, policies) = topology.isolating(namespace, labels, true);
        if isolated != Decision::Yes
            || topology.egress_allows(&policies, &endpoint, &["TCP"]) != Decision::No
        {
            continue;
        }
        let across = topology.policies_across_group(namespace, labels, true);
        if topology.egress_allows(&across, &endpoint, &["TCP"]) != Decision::No {
            continue;
        }
        let container_port = endpoint
            .candidates
            .iter()
            .find_map(|c| c.port)
            .unwrap_or(connection.port);
        let selector = service.map(|s| &topology.service(s).selector);
        let blamed = policies[0];
        let group = groups
            .entry((
                blamed,
                connection.service_namespace.clone(),
                connection.service_name.clone(),
                connection.port,
            ))
            .or_insert_with(|| Blocked {
                workloads: Vec::new(),
                service,
                rule: egress_rule_text(
                    &connection.service_namespace,
                    selector,
                    container_port,
                    "TCP",
                ),
            });
        if !group.workloads.contains(&connection.workload) {
            group.workloads.push(connection.workload);
        }
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
        let Some(mut finding) = topology::policy_finding(
            &RULE,
            policy,
            egress.location.clone(),
            egress.width,
            message,
        ) else {
            continue;
        };
        finding.help = Some(format!("add to spec.egress: - {}", blocked.rule));
        finding.runbook = Some(runbook::one_line(
            Step::NetworkPolicy,
            &runbook::Names {
                namespace: namespaces::named(&policy.object.namespace),
                service: Some(name.clone()),
                service_namespace: namespaces::named(&namespace),
                port: Some(port),
                ..runbook::Names::default()
            },
        ));
        if let Some(service) = blocked.service {
            finding.relate(
                &topology.service(service).object.location,
                "Service defined here",
            );
        }
        for &w in &blocked.workloads {
            finding.relate(
                &topology.workload(w).object.location,
                "pods blocked by this policy",
            );
        }
        out.push(finding);
    }
}
