//! Labels, selectors, rules and workload lists as the policy rules' messages write them.

use super::Topology;
use crate::lint::namespaces;
use crate::manifest::model::Labels;
use crate::manifest::model::NAMESPACE_NAME_LABEL;

/// Labels as `kubectl` writes them: `app=nats,tier=messaging`.
pub(crate) fn describe_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return "(no labels)".to_string();
    }
    labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The egress rule that lets a pod reach `namespace` (its pods picked by `selector`)
/// on `port`, as one line of YAML flow style.
/// For the group's namespace, whose name the input does not give, the peer is a pod
/// selector alone: the policy that needs the rule is the group's too, and a pod
/// selector alone means the policy's own namespace.
pub(crate) fn egress_rule_text(
    namespace: &str,
    selector: Option<&Labels>,
    port: u16,
    protocol: &str,
) -> String {
    let selector = selector.filter(|s| !s.is_empty());
    let peer = match (namespaces::is_group(namespace), selector) {
        (true, Some(selector)) => format!("podSelector: {{matchLabels: {}}}", flow_map(selector)),
        (true, None) => "podSelector: {}".to_string(),
        (false, selector) => {
            let mut peer = format!(
                "namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {namespace}}}}}"
            );
            if let Some(selector) = selector {
                peer.push_str(&format!(
                    ", podSelector: {{matchLabels: {}}}",
                    flow_map(selector)
                ));
            }
            peer
        }
    };
    format!("{{to: [{{{peer}}}], ports: [{{protocol: {protocol}, port: {port}}}]}}")
}

pub(crate) fn flow_map(labels: &Labels) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}: {value}"))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// A selector as `kubectl` prints one: `app=nats,tier in (a,b),!debug`.
pub(crate) fn describe_selector(selector: &crate::manifest::model::LabelSelector) -> String {
    use crate::manifest::model::SelectorOperator;
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for requirement in &selector.expressions {
        let values = requirement.values.join(",");
        parts.push(match requirement.operator {
            SelectorOperator::In => format!("{} in ({values})", requirement.key),
            SelectorOperator::NotIn => format!("{} notin ({values})", requirement.key),
            SelectorOperator::Exists => requirement.key.to_string(),
            SelectorOperator::DoesNotExist => format!("!{}", requirement.key),
        });
    }
    if parts.is_empty() {
        "(every pod)".to_string()
    } else {
        parts.join(",")
    }
}

/// The most workloads a policy finding names (in its message and as related places);
/// the rest are counted. A value read by thousands of workloads would otherwise make
/// every finding as long as the input.
pub(crate) const LISTED: usize = 10;

/// Workloads as a list for messages: `Deployment a/x, CronJob a/y`, the first
/// [`LISTED`] of them and how many more.
pub(crate) fn list_workloads(topology: &Topology<'_>, workloads: &[usize]) -> String {
    let mut list = workloads
        .iter()
        .take(LISTED)
        .map(|&w| topology.workload(w).reference().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if workloads.len() > LISTED {
        list.push_str(&format!(" and {} more", workloads.len() - LISTED));
    }
    list
}
