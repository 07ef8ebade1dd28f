use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::{complete_labels, list_workloads, Work, DNS_NAMESPACE, LISTED};
use crate::manifest::model::{Decision, NAMESPACE_NAME_LABEL};
use crate::runbook::{self, Step};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it does
    /// Flags a NetworkPolicy that isolates a NATS client's pods for egress when no
    /// egress rule of any policy selecting them allows port 53 (UDP or TCP) to the
    /// cluster DNS server, while the client's URL uses a host name. The DNS server is
    /// taken to be pods labelled `k8s-app: kube-dns` in `kube-system`; a rule with
    /// port 53 and no `to`, or `to` everything, allows it; an `ipBlock` other than
    /// `0.0.0.0/0` (a node-local DNS cache) is left alone. For pods and policies of
    /// objects that name no namespace, policies across that boundary count as for
    /// `egress-blocks-nats`.
    ///
    /// ## Why is this bad?
    /// The client cannot resolve `nats-server.nats.svc.cluster.local`: every connection
    /// fails with a DNS timeout before a packet reaches NATS, even when the NATS port
    /// itself is allowed.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: nats}}}]
    ///     ports: [{protocol: TCP, port: 4222}]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    ///   egress:
    ///   - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: nats}}}]
    ///     ports: [{protocol: TCP, port: 4222}]
    ///   - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ```
    pub(crate) static RULE = {
        code: "ND402",
        name: "egress-blocks-dns",
        severity: Error,
        summary: "a NetworkPolicy's egress rules do not let the client resolve the NATS Service name",
        reads: Topology,
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let dns = topology.dns_endpoint();
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut work = Work::new();
    for &w in &topology.resolving_clients {
        let workload = topology.workload(w);
        if workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        let labels = complete_labels(&workload.pod_labels);
        let namespace = &workload.object.namespace;
        let (isolated, policies) = topology.egress_isolation(w, &mut work);
        if work.spent() {
            ctx.limit_reached(RULE.stopped_at(&workload.object.location, &workload.object.name));
            break;
        }
        if isolated != Decision::Yes
            || topology.egress_allows(&policies, &dns, &["UDP", "TCP"]) != Decision::No
        {
            continue;
        }
        // Policies across the group's boundary may select the pods where they are
        // deployed, and allow DNS.
        let across = topology.policies_across_group(namespace, labels, true, &mut work);
        if across.is_none_or(|across| {
            topology.egress_allows(&across, &dns, &["UDP", "TCP"]) != Decision::No
        }) {
            continue;
        }
        groups.entry(policies[0]).or_default().push(w);
    }
    for (policy_index, workloads) in groups {
        let policy = topology.policy(policy_index);
        let Some(egress) = &policy.egress else {
            continue;
        };
        let message = format!(
            "NetworkPolicy `{}` isolates egress of {}; no egress rule allows DNS (port 53), so the NATS Service name cannot resolve",
            policy.object.name,
            list_workloads(topology, &workloads)
        );
        let Some(mut finding) =
            RULE.policy_finding(policy, egress.location.clone(), egress.width, message)
        else {
            continue;
        };
        finding.help = Some(format!(
            "add to spec.egress: - {{to: [{{namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {DNS_NAMESPACE}}}}}, podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}], ports: [{{protocol: UDP, port: 53}}, {{protocol: TCP, port: 53}}]}}"
        ));
        // The troubleshooting guide is the documented services' own.
        finding.runbook = workloads
            .iter()
            .any(|&w| ctx.documented_workload(w))
            .then(|| {
                runbook::documented_line(
                    Step::NetworkPolicy,
                    &runbook::Names {
                        namespace: namespaces::named(&policy.object.namespace),
                        ..runbook::Names::default()
                    },
                )
            });
        for &w in workloads.iter().take(LISTED) {
            finding.relate(
                &topology.workload(w).object.location,
                "pods blocked by this policy",
            );
        }
        out.push(finding);
    }
}
