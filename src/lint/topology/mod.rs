//! The cluster as the input describes it: Services by name, workloads and
//! NetworkPolicies by namespace, namespace labels, and where each NATS client workload
//! connects. Built once per run, only when a cross-object rule asks for it, so that
//! every lookup is a binary search instead of a scan over all objects.
//!
//! This file owns the indexes and their lookups; `services.rs` resolves a URL host to
//! a Service as a pod's resolver would, `policies.rs` evaluates NetworkPolicies against
//! a packet within a work budget, and `texts.rs` writes labels, selectors and rules as
//! the rules' messages show them.

mod policies;
mod services;
mod texts;

pub(crate) use policies::{Work, POLICY_WORK};
pub(crate) use services::{PortCheck, Target};
pub(crate) use texts::{
    describe_labels, describe_selector, egress_rule_text, list_workloads, LISTED,
};

use crate::lint::context::Context;
use crate::lint::grouped::Grouped;
use crate::lint::namespaces;
use crate::manifest::model::Labels;
use crate::manifest::model::{
    Inventory, KnownLabels, NetworkPolicy, Platform, Service, Workload, NAMESPACE_NAME_LABEL,
};
use crate::natsurl::{Host, ServerUrl};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The namespace and pod labels of the cluster DNS server (CoreDNS and kube-dns both
/// carry `k8s-app: kube-dns`).
pub(crate) const DNS_NAMESPACE: &str = "kube-system";
const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
pub(crate) const DNS_PORT: u16 = 53;

/// A pod that may receive a connection, with the container port that takes it.
#[derive(Clone, Debug)]
pub(crate) struct Candidate<'a> {
    pub labels: KnownLabels<'a>,
    /// The container port number, when known.
    pub port: Option<u16>,
    /// The container port name: `Some(None)` when known to be unnamed, `None` when the
    /// input does not show the pod's ports.
    pub port_name: Option<Option<&'a str>>,
}

/// Pods in a namespace that packets go to.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint<'a> {
    pub namespace: &'a str,
    pub candidates: Vec<Candidate<'a>>,
}

pub(crate) struct Topology<'a> {
    inventory: &'a Inventory,
    /// Services by namespace and name.
    services: Grouped<(&'a str, &'a str)>,
    services_by_name: Grouped<&'a str>,
    services_by_namespace: Grouped<&'a str>,
    /// Kubernetes workloads by namespace.
    workloads: Grouped<&'a str>,
    policies: Grouped<&'a str>,
    /// Policies by namespace and the label pairs their pod selector requires (see
    /// `required_pairs`): a pod can only be selected by the policies under one of its
    /// own labels.
    policies_by_label: Grouped<(&'a str, &'a str, &'a str)>,
    /// Policies whose pod selector requires no label pair, by namespace.
    policies_without_labels: Grouped<&'a str>,
    /// Kubernetes workloads by namespace and pod label.
    workloads_by_label: Grouped<(&'a str, &'a str, &'a str)>,
    namespace_labels: FxHashMap<&'a str, &'a Labels>,
    empty: Labels,
    dns_labels: Labels,
    /// For each URL site of the context, in order, the Kubernetes workloads that read
    /// it, each once: the clients of every server the site lists, kept once per site
    /// however many servers it lists.
    site_clients: Vec<Box<[usize]>>,
    /// NATS client workloads that resolve at least one host name through DNS.
    pub resolving_clients: BTreeSet<usize>,
    /// For each of `Context::servers()` in order, where its Service name leads, when it
    /// names one.
    targets: OnceLock<Vec<Option<Target>>>,
    /// For each Service, whether more than one server of the input names it: the policy
    /// rules keep what they work out about those only. Worked out on first use.
    shared_services: OnceLock<Box<[bool]>>,
    /// For each workload, whether the policies of its namespace isolate its pods for
    /// egress, worked out once for the two egress rules (see
    /// [`Topology::egress_isolation`]). Made on first use.
    egress_isolation: OnceLock<Box<[OnceLock<policies::Isolation>]>>,
    /// The named namespaces' policies and workloads, for the group's pods and policies,
    /// which may be deployed among them. Built only when the input has a group.
    across: Option<AcrossGroup<'a>>,
}

/// The policies and Kubernetes workloads of the named namespaces, by the first
/// `matchLabels` pair of a policy's pod selector and by every pod label.
struct AcrossGroup<'a> {
    policies_by_label: Grouped<(&'a str, &'a str)>,
    policies_without_labels: Vec<usize>,
    workloads_by_label: Grouped<(&'a str, &'a str)>,
    workloads: Vec<usize>,
}

impl<'a> Topology<'a> {
    /// The indexes of the topology, which need only the facts; [`Topology::with_clients`]
    /// completes it.
    pub(crate) fn indexes(inventory: &'a Inventory) -> Self {
        let services = &inventory.services;
        let policies = &inventory.network_policies;
        let kubernetes = || {
            inventory
                .workloads
                .iter()
                .enumerate()
                .filter(|(_, workload)| workload.platform == Platform::Kubernetes)
        };
        let required = |policy: &'a NetworkPolicy| required_pairs(&policy.pod_selector);
        let mut topology = Topology {
            inventory,
            services: Grouped::by(services, |s| {
                (s.object.namespace.as_str(), s.object.name.as_str())
            }),
            services_by_name: Grouped::by(services, |s| s.object.name.as_str()),
            services_by_namespace: Grouped::by(services, |s| s.object.namespace.as_str()),
            workloads: Grouped::new(
                kubernetes()
                    .map(|(index, w)| (w.object.namespace.as_str(), index))
                    .collect(),
            ),
            workloads_by_label: Grouped::new(
                kubernetes()
                    .flat_map(|(index, w)| {
                        let namespace = w.object.namespace.as_str();
                        w.pod_labels
                            .iter()
                            .map(move |(k, v)| ((namespace, k.as_str(), v.as_str()), index))
                    })
                    .collect(),
            ),
            policies: Grouped::by(policies, |p| p.object.namespace.as_str()),
            policies_by_label: Grouped::new(
                policies
                    .iter()
                    .enumerate()
                    .flat_map(|(index, p)| {
                        let namespace = p.object.namespace.as_str();
                        required(p)
                            .unwrap_or_default()
                            .into_iter()
                            .map(move |(key, value)| ((namespace, key, value), index))
                    })
                    .collect(),
            ),
            policies_without_labels: Grouped::new(
                policies
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| required(p).is_none())
                    .map(|(index, p)| (p.object.namespace.as_str(), index))
                    .collect(),
            ),
            namespace_labels: FxHashMap::default(),
            empty: Labels::default(),
            dns_labels: Labels::from_iter([(DNS_LABEL.0.to_string(), DNS_LABEL.1.to_string())]),
            site_clients: Vec::new(),
            resolving_clients: BTreeSet::new(),
            targets: OnceLock::new(),
            shared_services: OnceLock::new(),
            egress_isolation: OnceLock::new(),
            across: None,
        };
        let in_group = |namespace: &str| namespaces::is_group(namespace);
        let has_group = inventory
            .workloads
            .iter()
            .any(|w| w.platform == Platform::Kubernetes && in_group(&w.object.namespace))
            || services.iter().any(|s| in_group(&s.object.namespace))
            || policies.iter().any(|p| in_group(&p.object.namespace));
        if has_group {
            let named_policies = || {
                policies
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !in_group(&p.object.namespace))
            };
            let named_workloads = || kubernetes().filter(|(_, w)| !in_group(&w.object.namespace));
            topology.across = Some(AcrossGroup {
                policies_by_label: Grouped::new(
                    named_policies()
                        .flat_map(|(index, p)| {
                            required(p)
                                .unwrap_or_default()
                                .into_iter()
                                .map(move |pair| (pair, index))
                        })
                        .collect(),
                ),
                policies_without_labels: named_policies()
                    .filter(|(_, p)| required(p).is_none())
                    .map(|(index, _)| index)
                    .collect(),
                workloads_by_label: Grouped::new(
                    named_workloads()
                        .flat_map(|(index, w)| {
                            w.pod_labels
                                .iter()
                                .map(move |(k, v)| ((k.as_str(), v.as_str()), index))
                        })
                        .collect(),
                ),
                workloads: named_workloads().map(|(index, _)| index).collect(),
            });
        }
        for namespace in &inventory.namespaces {
            topology
                .namespace_labels
                .insert(namespace.name.as_str(), &namespace.labels);
        }
        topology
    }

    /// The topology with the clients of each URL site of `context`.
    pub(crate) fn with_clients(mut self, context: &Context<'a>) -> Self {
        self.collect_clients(context);
        self
    }

    fn collect_clients(&mut self, context: &Context<'a>) {
        self.site_clients.reserve_exact(context.url_sites.len());
        for url_site in &context.url_sites {
            let mut clients: Vec<usize> = url_site
                .site
                .consumers
                .iter()
                .map(|consumer| consumer.workload)
                .filter(|&w| self.inventory.workloads[w].platform == Platform::Kubernetes)
                .collect();
            // Consumers are containers, in order: those of one workload are adjacent.
            clients.dedup();
            // A host name other than localhost (which `classify_host` tells by its last
            // label) goes to DNS.
            let resolves = url_site.entries.iter().any(|entry| match entry {
                crate::natsurl::Entry::Server(ServerUrl {
                    host: Host::Name { name, .. },
                    ..
                }) => name != "localhost" && !name.ends_with(".localhost"),
                _ => false,
            });
            if resolves {
                self.resolving_clients.extend(clients.iter().copied());
            }
            self.site_clients.push(clients.into_boxed_slice());
        }
    }

    /// The Kubernetes workloads that read a site (by its place in `Context::url_sites`).
    pub(crate) fn clients(&self, site: usize) -> &[usize] {
        &self.site_clients[site]
    }

    pub(crate) fn service(&self, index: usize) -> &'a Service {
        &self.inventory.services[index]
    }

    pub(crate) fn workloads_in(&self, namespace: &str) -> &[usize] {
        self.workloads.find(namespace)
    }

    pub(crate) fn policies_in(&self, namespace: &str) -> &[usize] {
        self.policies.find(namespace)
    }

    pub(crate) fn policy(&self, index: usize) -> &'a NetworkPolicy {
        &self.inventory.network_policies[index]
    }

    pub(crate) fn workload(&self, index: usize) -> &'a Workload {
        &self.inventory.workloads[index]
    }

    /// A namespace's labels: its name always, the rest when a Namespace object shows them.
    /// Of the group's namespace, chosen at deploy time, not even the name is known.
    pub(crate) fn namespace_labels<'s>(&'s self, namespace: &'s str) -> KnownLabels<'s> {
        if namespaces::is_group(namespace) {
            return KnownLabels {
                labels: &self.empty,
                complete: false,
                extra: None,
            };
        }
        match self.namespace_labels.get(namespace) {
            Some(labels) => KnownLabels {
                labels,
                complete: true,
                extra: Some((NAMESPACE_NAME_LABEL, namespace)),
            },
            None => KnownLabels {
                labels: &self.empty,
                complete: false,
                extra: Some((NAMESPACE_NAME_LABEL, namespace)),
            },
        }
    }
}

/// Label pairs one of which every pod the selector selects carries: its first
/// `matchLabels` pair, else the values of its first `In` requirement. `None` when it
/// may select pods whatever their labels' values (`Exists`, `NotIn`, `DoesNotExist`,
/// the empty selector) or cannot be read. Policies and workloads are looked up by
/// these pairs, so that a pod meets only the policies that may select it.
fn required_pairs(selector: &crate::manifest::model::LabelSelector) -> Option<Vec<(&str, &str)>> {
    use crate::manifest::model::SelectorOperator;
    if selector.unreadable {
        return None;
    }
    if let Some((key, value)) = selector.match_labels.iter().next() {
        return Some(vec![(key.as_str(), value.as_str())]);
    }
    let requirement = selector
        .expressions
        .iter()
        .find(|r| r.operator == SelectorOperator::In)?;
    Some(
        requirement
            .values
            .iter()
            .map(|value| (requirement.key.as_str(), value.as_str()))
            .collect(),
    )
}

/// Labels the input shows completely (a pod template's).
pub(crate) fn complete_labels(labels: &Labels) -> KnownLabels<'_> {
    KnownLabels {
        labels,
        complete: true,
        extra: None,
    }
}
