//! NetworkPolicy evaluation: which policies may select a pod, whether they isolate it,
//! and whether one of their rules lets a packet through, each within the work budget
//! of one rule.

use super::{
    complete_labels, required_pairs, Candidate, Endpoint, Topology, DNS_NAMESPACE, DNS_PORT,
};
use crate::lint::namespaces;
use crate::manifest::model::{Decision, KnownLabels, PolicyPeer, PolicyPort, PolicyRule, PortSpec};
use std::sync::OnceLock;

/// The work a policy rule may do on one input, in steps: a client workload and a server
/// it connects to, a pod behind a Service, a policy or workload looked at to find which
/// select a pod. A real client connects to a server or three and meets a few policies;
/// a value of 1,024 servers read by twenty thousand workloads makes twenty million
/// pairs, and thousands of policies that no label indexes each meet thousands of pods.
/// Four million steps take a second or so; past them the rule stops, with an input
/// error.
pub(crate) const POLICY_WORK: usize = 1 << 22;

/// What is left of [`POLICY_WORK`] for one rule.
pub(crate) struct Work {
    left: usize,
    spent: bool,
}

impl Work {
    pub(crate) fn new() -> Self {
        Work {
            left: POLICY_WORK,
            spent: false,
        }
    }

    /// Takes `units` of work; `false` once there is not that much left, and from then
    /// on.
    pub(crate) fn take(&mut self, units: usize) -> bool {
        match self.left.checked_sub(units) {
            Some(left) if !self.spent => {
                self.left = left;
                true
            }
            _ => {
                self.spent = true;
                false
            }
        }
    }

    /// The work left.
    fn left(&self) -> usize {
        self.left
    }

    /// Whether the work ran out, so that something asked for was not done.
    pub(crate) fn spent(&self) -> bool {
        self.spent
    }
}

/// Whether a workload's pods are isolated for egress, by which policies, and the work it
/// took to find out.
pub(crate) struct Isolation {
    decision: Decision,
    policies: Box<[usize]>,
    work: usize,
}

impl<'a> Topology<'a> {
    /// Pods of a namespace the input shows nothing about, listening on `port`.
    pub(crate) fn unknown_endpoint<'s>(&'s self, namespace: &'s str, port: u16) -> Endpoint<'s> {
        Endpoint {
            namespace,
            candidates: vec![Candidate {
                labels: KnownLabels {
                    labels: &self.empty,
                    complete: false,
                    extra: None,
                },
                port: Some(port),
                port_name: None,
            }],
        }
    }

    /// The cluster DNS server.
    pub(crate) fn dns_endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            namespace: DNS_NAMESPACE,
            candidates: vec![Candidate {
                labels: KnownLabels {
                    labels: &self.dns_labels,
                    complete: false,
                    extra: None,
                },
                port: Some(DNS_PORT),
                port_name: None,
            }],
        }
    }

    /// The policies of a namespace whose pod selector may match these labels, in input
    /// order. With complete labels only the policies indexed under one of the labels
    /// (or requiring no label pair) can match; otherwise every policy is a candidate.
    /// `None` when `work` does not cover looking at them all.
    pub(crate) fn policies_that_may_select(
        &self,
        namespace: &str,
        labels: KnownLabels<'_>,
        work: &mut Work,
    ) -> Option<Vec<usize>> {
        if !labels.complete {
            let all = self.policies_in(namespace);
            return work.take(all.len()).then(|| all.to_vec());
        }
        let pairs = || {
            labels
                .labels
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .chain(labels.extra)
        };
        let without = self.policies_without_labels.get(&namespace);
        let count = without.len()
            + pairs()
                .map(|(key, value)| self.policies_by_label.get(&(namespace, key, value)).len())
                .sum::<usize>();
        if !work.take(count) {
            return None;
        }
        let mut found: Vec<usize> = without.to_vec();
        for (key, value) in pairs() {
            found.extend_from_slice(self.policies_by_label.get(&(namespace, key, value)));
        }
        // A policy indexed under several values of its `In` requirement may be found
        // under more than one of the pod's labels.
        found.sort_unstable();
        found.dedup();
        Some(found)
    }

    /// Whether some workload of a namespace may be selected by `selector`, looking only
    /// at the workloads that carry a label pair it requires when it requires one. `true`
    /// when `work` does not cover looking (the selector may select some).
    pub(crate) fn selects_some_workload(
        &self,
        namespace: &str,
        selector: &crate::manifest::model::LabelSelector,
        work: &mut Work,
    ) -> bool {
        let candidates: Vec<&[usize]> = match required_pairs(selector) {
            Some(pairs) => pairs
                .into_iter()
                .map(|(key, value)| self.workloads_by_label.get(&(namespace, key, value)))
                .collect(),
            None => vec![self.workloads_in(namespace)],
        };
        self.any_selected(selector, &candidates, work)
    }

    /// Whether `selector` may select one of the workloads in `candidates`, within `work`.
    fn any_selected(
        &self,
        selector: &crate::manifest::model::LabelSelector,
        candidates: &[&[usize]],
        work: &mut Work,
    ) -> bool {
        if !work.take(candidates.iter().map(|list| list.len()).sum()) {
            return true;
        }
        candidates.iter().any(|list| {
            list.iter().any(|&w| {
                selector.matches(complete_labels(&self.workload(w).pod_labels)) != Decision::No
            })
        })
    }

    /// The policies across the group's boundary that may select a pod of `namespace` with
    /// these labels and have rules in one direction: for a pod of the group, the named
    /// namespaces' (the group may be deployed into one of them); for a pod of a named
    /// namespace, the group's (they may be deployed into it). Their rules may let
    /// through what the pod's own policies block. `None` when `work` does not cover
    /// looking at them all.
    pub(crate) fn policies_across_group(
        &self,
        namespace: &str,
        labels: KnownLabels<'_>,
        egress: bool,
        work: &mut Work,
    ) -> Option<Vec<usize>> {
        let Some(across) = &self.across else {
            return Some(Vec::new());
        };
        let mut found = if !namespaces::is_group(namespace) {
            self.policies_that_may_select(crate::manifest::model::GROUP_NAMESPACE, labels, work)?
        } else if !labels.complete {
            if !work.take(self.inventory.network_policies.len()) {
                return None;
            }
            (0..self.inventory.network_policies.len())
                .filter(|&index| !namespaces::is_group(&self.policy(index).object.namespace))
                .collect()
        } else {
            let pairs = || {
                labels
                    .labels
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.as_str()))
                    .chain(labels.extra)
            };
            let count = across.policies_without_labels.len()
                + pairs()
                    .map(|pair| across.policies_by_label.get(&pair).len())
                    .sum::<usize>();
            if !work.take(count) {
                return None;
            }
            let mut found = across.policies_without_labels.clone();
            for pair in pairs() {
                found.extend_from_slice(across.policies_by_label.get(&pair));
            }
            found.sort_unstable();
            found.dedup();
            found
        };
        found.retain(|&index| {
            let policy = self.policy(index);
            let direction = if egress {
                &policy.egress
            } else {
                &policy.ingress
            };
            direction.is_some() && policy.pod_selector.matches(labels) != Decision::No
        });
        Some(found)
    }

    /// Whether `selector`, of a policy in `namespace`, may select a workload across the
    /// group's boundary (see [`Topology::policies_across_group`]); `true` when `work`
    /// does not cover looking.
    pub(crate) fn may_select_across_group(
        &self,
        namespace: &str,
        selector: &crate::manifest::model::LabelSelector,
        work: &mut Work,
    ) -> bool {
        let Some(across) = &self.across else {
            return false;
        };
        if !namespaces::is_group(namespace) {
            return self.selects_some_workload(
                crate::manifest::model::GROUP_NAMESPACE,
                selector,
                work,
            );
        }
        let candidates: Vec<&[usize]> = match required_pairs(selector) {
            Some(pairs) => pairs
                .into_iter()
                .map(|pair| across.workloads_by_label.get(&pair))
                .collect(),
            None => vec![&across.workloads[..]],
        };
        self.any_selected(selector, &candidates, work)
    }

    /// Whether the policies of a pod's namespace isolate it in one direction: `Yes` with
    /// the isolating policies, `Unknown` when a policy's selector cannot be read or
    /// `work` does not cover looking at them all.
    pub(crate) fn isolating(
        &self,
        namespace: &str,
        labels: KnownLabels<'_>,
        egress: bool,
        work: &mut Work,
    ) -> (Decision, Vec<usize>) {
        let Some(candidates) = self.policies_that_may_select(namespace, labels, work) else {
            return (Decision::Unknown, Vec::new());
        };
        let mut isolating = Vec::new();
        let mut unsure = false;
        for index in candidates {
            let policy = self.policy(index);
            let direction = if egress {
                &policy.egress
            } else {
                &policy.ingress
            };
            if direction.is_none() {
                continue;
            }
            match policy.pod_selector.matches(labels) {
                Decision::Yes => isolating.push(index),
                Decision::Unknown => unsure = true,
                Decision::No => {}
            }
        }
        let decision = if unsure {
            Decision::Unknown
        } else if isolating.is_empty() {
            Decision::No
        } else {
            Decision::Yes
        };
        (decision, isolating)
    }

    /// [`Topology::isolating`] for the egress of a workload's own pods. Both egress rules
    /// ask it for every client, so it is worked out once and kept with the work it took;
    /// each rule still takes that work from its own budget, and so stops where it would
    /// have stopped working it out itself. On the shared benchmark corpus the lookups of
    /// the candidate policies were a third of each egress rule's time.
    pub(crate) fn egress_isolation(
        &self,
        workload: usize,
        work: &mut Work,
    ) -> (Decision, Vec<usize>) {
        let known = self.egress_isolation.get_or_init(|| {
            (0..self.inventory.workloads.len())
                .map(|_| OnceLock::new())
                .collect()
        });
        if let Some(isolation) = known[workload].get() {
            if !work.take(isolation.work) {
                return (Decision::Unknown, Vec::new());
            }
            return (isolation.decision, isolation.policies.to_vec());
        }
        let pods = self.workload(workload);
        let left = work.left();
        let (decision, policies) = self.isolating(
            &pods.object.namespace,
            complete_labels(&pods.pod_labels),
            true,
            work,
        );
        if !work.spent() {
            // Another rule may have worked it out meanwhile, to the same answer.
            let _ = known[workload].set(Isolation {
                decision,
                policies: policies.clone().into_boxed_slice(),
                work: left - work.left(),
            });
        }
        (decision, policies)
    }

    /// Whether some egress rule of `policies` (all in `namespace`) lets a packet out to
    /// `endpoint` over one of `protocols`.
    pub(crate) fn egress_allows(
        &self,
        policies: &[usize],
        endpoint: &Endpoint<'_>,
        protocols: &[&str],
    ) -> Decision {
        let namespace_labels = self.namespace_labels(endpoint.namespace);
        Decision::any(policies.iter().flat_map(|&index| {
            let policy = self.policy(index);
            let rules = policy.egress.as_ref().map_or(&[][..], |d| &d.rules[..]);
            rules.iter().flat_map(move |rule| {
                endpoint.candidates.iter().map(move |candidate| {
                    rule_allows(
                        rule,
                        &policy.object.namespace,
                        endpoint.namespace,
                        namespace_labels,
                        candidate.labels,
                        candidate,
                        protocols,
                    )
                })
            })
        }))
    }

    /// Whether some ingress rule of `policies` admits a pod of `source_namespace` with
    /// `source_labels` to `candidate`.
    pub(crate) fn ingress_allows(
        &self,
        policies: &[usize],
        source_namespace: &str,
        source_labels: KnownLabels<'_>,
        candidate: &Candidate<'_>,
    ) -> Decision {
        let namespace_labels = self.namespace_labels(source_namespace);
        Decision::any(policies.iter().flat_map(|&index| {
            let policy = self.policy(index);
            let rules = policy.ingress.as_ref().map_or(&[][..], |d| &d.rules[..]);
            rules.iter().map(move |rule| {
                rule_allows(
                    rule,
                    &policy.object.namespace,
                    source_namespace,
                    namespace_labels,
                    source_labels,
                    candidate,
                    &["TCP"],
                )
            })
        }))
    }
}

/// One rule against one packet: the peer is the other end (destination for egress,
/// source for ingress); the port is always the receiving container's.
fn rule_allows(
    rule: &PolicyRule,
    policy_namespace: &str,
    peer_namespace: &str,
    peer_namespace_labels: KnownLabels<'_>,
    peer_labels: KnownLabels<'_>,
    receiver: &Candidate<'_>,
    protocols: &[&str],
) -> Decision {
    let ports = if rule.ports.is_empty() {
        Decision::Yes
    } else {
        Decision::any(rule.ports.iter().flat_map(|port| {
            protocols
                .iter()
                .map(move |protocol| port_allows(port, receiver, protocol))
        }))
    };
    if ports == Decision::No {
        return Decision::No;
    }
    let peers = if rule.peers.is_empty() {
        Decision::Yes
    } else {
        Decision::any(rule.peers.iter().map(|peer| {
            peer_matches(
                peer,
                policy_namespace,
                peer_namespace,
                peer_namespace_labels,
                peer_labels,
            )
        }))
    };
    ports.and(peers)
}

fn port_allows(port: &PolicyPort, receiver: &Candidate<'_>, protocol: &str) -> Decision {
    if port.protocol != protocol {
        return Decision::No;
    }
    match &port.port {
        None => Decision::Yes,
        Some(PortSpec::Invalid) => Decision::No,
        Some(PortSpec::Number(first)) => match receiver.port {
            None => Decision::Unknown,
            Some(number) => {
                let last = port.end_port.unwrap_or(*first).max(*first);
                if (*first..=last).contains(&number) {
                    Decision::Yes
                } else {
                    Decision::No
                }
            }
        },
        Some(PortSpec::Name(name)) => match receiver.port_name {
            None => Decision::Unknown,
            Some(known) => {
                if known == Some(name.as_str()) {
                    Decision::Yes
                } else {
                    Decision::No
                }
            }
        },
    }
}

/// A `to`/`from` entry against the pod at the other end. Selectors of one peer combine
/// with AND; a pod selector alone means the policy's own namespace. Of the CIDRs only
/// "everything" can be decided without knowing the cluster's addresses.
fn peer_matches(
    peer: &PolicyPeer,
    policy_namespace: &str,
    namespace: &str,
    namespace_labels: KnownLabels<'_>,
    labels: KnownLabels<'_>,
) -> Decision {
    if let Some(block) = &peer.ip_block {
        let everything = matches!(block.cidr.trim(), "0.0.0.0/0" | "::/0");
        return if everything && block.except.is_empty() {
            Decision::Yes
        } else {
            Decision::Unknown
        };
    }
    if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
        return Decision::Unknown;
    }
    let in_namespace = match &peer.namespace_selector {
        None => namespaces::same(namespace, policy_namespace),
        Some(selector) => selector.matches(namespace_labels),
    };
    let pod = match &peer.pod_selector {
        None => Decision::Yes,
        Some(selector) => selector.matches(labels),
    };
    in_namespace.and(pod)
}
