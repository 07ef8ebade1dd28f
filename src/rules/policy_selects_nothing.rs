use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::{describe_labels, describe_selector, Work};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// How many label sets the help shows.
const SHOWN_LABEL_SETS: usize = 3;

declare_rule! {
    /// ## What it does
    /// Flags a NetworkPolicy whose `podSelector` matches no workload of its namespace in
    /// the input (pod labels come from the pod templates). Namespaces without any
    /// workload in the input are left alone.
    ///
    /// Objects that name no namespace are deployed together into one namespace chosen
    /// at deploy time, which may be a named one: a policy among them is reported only
    /// when no workload of the input matches it, and a policy of a named namespace only
    /// when no workload without a namespace matches it either.
    ///
    /// ## Why is this bad?
    /// A policy that selects nothing does nothing: the egress or ingress rules someone
    /// wrote to open the way to NATS apply to no pod, while another policy keeps
    /// blocking the traffic. The usual cause is a label typo
    /// (`app: klines-extrator`) or a label taken from the Deployment's own metadata
    /// instead of its pod template.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   podSelector:
    ///     matchLabels: {app: klines-extrator}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   podSelector:
    ///     matchLabels: {app: klines-extractor}
    /// ```
    pub(crate) static RULE = {
        code: "ND403",
        name: "policy-selects-nothing",
        severity: Warning,
        summary: "a NetworkPolicy's podSelector matches no workload in its namespace",
        reads: Topology,
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    // The label sets shown in the help, and how many more there are, once per
    // namespace: thousands of policies of one namespace may each select nothing.
    let mut shown_by_namespace: FxHashMap<&str, (String, usize)> = FxHashMap::default();
    let mut work = Work::new();
    for (index, policy) in ctx.inventory.network_policies.iter().enumerate() {
        let workloads = topology.workloads_in(&policy.object.namespace);
        if workloads.is_empty() || policy.pod_selector.unreadable {
            continue;
        }
        // Workloads across the group's boundary may be deployed beside the policy.
        let namespace = &policy.object.namespace;
        let selects = topology.selects_some_workload(namespace, &policy.pod_selector, &mut work)
            || topology.may_select_across_group(namespace, &policy.pod_selector, &mut work);
        if work.spent() {
            ctx.limit_reached(RULE.stopped_at(&policy.object.location, &policy.object.name));
            break;
        }
        if selects {
            continue;
        }
        let message = if namespaces::is_group(&policy.object.namespace) {
            format!(
                "NetworkPolicy `{}` selects no pod: no workload of the input, with or without a namespace, has pod labels matching `{}`",
                policy.object.name,
                describe_selector(&policy.pod_selector)
            )
        } else {
            format!(
                "NetworkPolicy `{}` selects no pod: no workload in namespace `{}` has pod labels matching `{}`",
                policy.object.name,
                policy.object.namespace,
                describe_selector(&policy.pod_selector)
            )
        };
        let Some(mut finding) = RULE.policy_finding(
            topology.policy(index),
            policy.pod_selector_location.clone(),
            policy.pod_selector_width,
            message,
        ) else {
            continue;
        };
        let (shown, more) = shown_by_namespace
            .entry(policy.object.namespace.as_str())
            .or_insert_with(|| {
                let label_sets: BTreeSet<_> = workloads
                    .iter()
                    .map(|&w| &topology.workload(w).pod_labels)
                    .collect();
                let shown: Vec<String> = label_sets
                    .iter()
                    .take(SHOWN_LABEL_SETS)
                    .map(|labels| describe_labels(labels))
                    .collect();
                (
                    shown.join("; "),
                    label_sets.len().saturating_sub(SHOWN_LABEL_SETS),
                )
            });
        let more = *more;
        let pods = if namespaces::is_group(&policy.object.namespace) {
            "pods of the workloads without a namespace".to_string()
        } else {
            format!("pods in `{}`", policy.object.namespace)
        };
        finding.help = Some(format!(
            "{pods} carry {}{}; select one of these (labels of spec.template.metadata, not of the workload)",
            shown,
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
        out.push(finding);
    }
}
