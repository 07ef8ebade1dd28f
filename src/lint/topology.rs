//! The cluster as the input describes it: Services by name, workloads and
//! NetworkPolicies by namespace, namespace labels, and where each NATS client workload
//! connects. Built once per run, only when a cross-object rule asks for it, so that
//! every lookup is a binary search instead of a scan over all objects.

use crate::lint::context::{Context, Site};
use crate::lint::grouped::Grouped;
use crate::lint::namespaces;
use crate::manifest::model::Labels;
use crate::manifest::model::{
    Decision, Inventory, KnownLabels, NetworkPolicy, Platform, PolicyPeer, PolicyPort, PolicyRule,
    PortSpec, Service, ServicePort, Workload, NAMESPACE_NAME_LABEL,
};
use crate::natsurl::{Host, HostClass, Port, ServerUrl};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The namespace and pod labels of the cluster DNS server (CoreDNS and kube-dns both
/// carry `k8s-app: kube-dns`).
pub(crate) const DNS_NAMESPACE: &str = "kube-system";
const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
pub(crate) const DNS_PORT: u16 = 53;

/// Where a URL host leads, seen from a pod in a given namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The Service exists in the input (index into `Inventory::services`).
    Found(usize),
    /// A short name that misses in the pod's namespace; Services of that name exist in
    /// other namespaces (see [`Topology::services_named`]). Kept for every server of the
    /// input: a list here would be as long as the namespaces having the name.
    OtherNamespace,
    /// The input covers the namespace (or `--strict-refs`) and has no such Service.
    Missing,
    /// The input does not cover the namespace, or a Service of that name is on the
    /// other side of the group's boundary: it cannot tell.
    Unknown,
}

/// A URL host seen as a Service from the consuming pods' namespace.
pub(crate) struct ServiceTarget<'c> {
    pub(crate) site: &'c Site<'c>,
    /// The site's place in `Context::url_sites`, for [`Topology::clients`].
    pub(crate) site_index: usize,
    pub(crate) server: &'c ServerUrl,
    pub(crate) target: &'c Target,
    /// What the value is expected to hold.
    pub(crate) expects: crate::manifest::integrations::Expectation,
}

impl ServiceTarget<'_> {
    /// The host's class, with the Service it names and the namespace it is looked up in.
    /// Worked out again on each call: only the servers that are reported need it, and
    /// keeping it for every server would hold megabytes of names on a large input.
    pub(crate) fn service(&self, context: &Context<'_>) -> (HostClass, String, String) {
        let class = context.classify(&self.server.host);
        let (service, namespace) = class
            .service(self.site.namespace)
            .map(|(s, n)| (s.to_string(), n.to_string()))
            .unwrap_or_default();
        (class, service, namespace)
    }
}

/// Whether a Service exposes the port a URL dials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortCheck {
    /// The Service port (index into `Service::ports`) that takes the connection.
    Exposed(usize),
    NotExposed,
    CannotTell,
}

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

    /// Whether the work ran out, so that something asked for was not done.
    pub(crate) fn spent(&self) -> bool {
        self.spent
    }

    /// The input error of a rule that stopped at `site`.
    pub(crate) fn stopped(rule: &crate::rules::Rule, site: &Site) -> crate::diagnostic::InputError {
        Work::stopped_at(rule, site.origin.location, site.origin.key)
    }

    /// The input error of a rule that stopped at what is named `name`, at `location`.
    pub(crate) fn stopped_at(
        rule: &crate::rules::Rule,
        location: &crate::diagnostic::Location,
        name: &str,
    ) -> crate::diagnostic::InputError {
        crate::diagnostic::InputError {
            file: location.file.clone(),
            line: Some(location.line),
            column: Some(location.column),
            message: format!(
                "{} ({}) stopped at `{name}`: judging the input's NATS clients, servers, pods and NetworkPolicies takes more than {POLICY_WORK} steps; the rest is not judged",
                rule.code,
                rule.name,
            ),
        }
    }
}

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
    pub(crate) fn new(context: &Context<'a>) -> Self {
        let inventory = context.inventory;
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
        topology.collect_clients(context);
        topology
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

    /// Every server of every Kubernetes URL site whose host names a Service, with what the
    /// input says about that Service as a pod in the site's namespace resolves it. Shared
    /// by the Service rules, which differ only in the outcome they report; worked out on
    /// first use.
    pub(crate) fn service_targets<'c>(
        &'c self,
        context: &'c Context<'a>,
    ) -> impl Iterator<Item = ServiceTarget<'c>> + use<'a, 'c> {
        let targets = self.targets.get_or_init(|| {
            context
                .servers()
                .map(|(url_site, server)| self.resolve(context, &url_site.site, server))
                .collect()
        });
        let servers = context
            .url_sites
            .iter()
            .enumerate()
            .flat_map(|(index, url_site)| {
                url_site
                    .entries
                    .iter()
                    .filter_map(move |entry| match entry {
                        crate::natsurl::Entry::Server(server) => Some((index, url_site, server)),
                        crate::natsurl::Entry::Invalid { .. } => None,
                    })
            });
        servers
            .zip(targets)
            .filter_map(|((site_index, url_site, server), target)| {
                Some(ServiceTarget {
                    site: &url_site.site,
                    site_index,
                    server,
                    target: target.as_ref()?,
                    expects: url_site.expects,
                })
            })
    }

    /// For each Service (by its place in `Inventory::services`), whether more than one
    /// server of the input leads to it.
    pub(crate) fn shared_services<'c>(&'c self, context: &'c Context<'a>) -> &'c [bool] {
        self.shared_services.get_or_init(|| {
            let mut seen = vec![0u8; self.inventory.services.len()];
            for resolved in self.service_targets(context) {
                if let Target::Found(index) = resolved.target {
                    seen[*index] = seen[*index].saturating_add(1);
                }
            }
            seen.into_iter().map(|count| count > 1).collect()
        })
    }

    fn resolve(&self, context: &Context<'_>, site: &Site, server: &ServerUrl) -> Option<Target> {
        if site.platform != Platform::Kubernetes {
            return None;
        }
        let class = context.classify(&server.host);
        let (service, namespace) = service_of(context, &class, server, site.namespace)?;
        let short = matches!(class, HostClass::Short { .. });
        // A controller resolves a short name in a namespace of its own, which the input
        // does not tie to the object.
        if short && !context.resolves_short_names(site) {
            return None;
        }
        Some(self.target(service, namespace, short, context.options.strict_refs))
    }

    /// Looks a Service up as a pod's resolver would.
    pub(crate) fn target(
        &self,
        name: &str,
        namespace: &str,
        short_name: bool,
        strict: bool,
    ) -> Target {
        if let Some(&found) = self.services.get(&(namespace, name)).first() {
            return Target::Found(found);
        }
        // Not found in its own namespace: every Service of the name is elsewhere.
        let elsewhere = self.services_named(name);
        // The group may be deployed into a named namespace that has the Service, and a
        // named namespace may receive the group's Service: the name may resolve.
        let across_group = if namespaces::is_group(namespace) {
            !elsewhere.is_empty()
        } else {
            elsewhere
                .iter()
                .any(|&i| namespaces::is_group(&self.inventory.services[i].object.namespace))
        };
        if across_group {
            return Target::Unknown;
        }
        if short_name && !elsewhere.is_empty() {
            return Target::OtherNamespace;
        }
        if strict || self.services_by_namespace.contains_key(&namespace) {
            Target::Missing
        } else {
            Target::Unknown
        }
    }

    /// The Services of a name, in input order.
    pub(crate) fn services_named(&self, name: &str) -> &[usize] {
        self.services_by_name.find(|k| (*k).cmp(name))
    }

    /// Whether `service` takes connections on `port`. A headless Service has no
    /// virtual IP: clients dial the pods, so the container port (`targetPort`) counts.
    pub(crate) fn port_check(&self, service: &Service, port: u16) -> PortCheck {
        let tcp = |p: &ServicePort| p.protocol.eq_ignore_ascii_case("TCP");
        if !service.headless {
            return match service.ports.iter().position(|p| p.port == port && tcp(p)) {
                Some(index) => PortCheck::Exposed(index),
                None => PortCheck::NotExposed,
            };
        }
        if service.ports.is_empty() {
            return PortCheck::CannotTell;
        }
        let mut backends = None;
        let mut unsure = false;
        for (index, service_port) in service.ports.iter().enumerate() {
            if !tcp(service_port) {
                continue;
            }
            let target = service_port.target_port.as_deref();
            let number = match target {
                None => Some(service_port.port),
                Some(text) => text.parse::<u16>().ok(),
            };
            if let Some(number) = number {
                if number == port {
                    return PortCheck::Exposed(index);
                }
                continue;
            }
            let backends = backends.get_or_insert_with(|| self.backends(service));
            if backends.is_empty() {
                unsure = true;
            }
            let named = backends.iter().any(|&w| {
                self.workload(w)
                    .containers
                    .iter()
                    .flat_map(|c| &c.ports)
                    .any(|p| p.name.as_deref() == target && p.number == port)
            });
            if named {
                return PortCheck::Exposed(index);
            }
        }
        if unsure {
            PortCheck::CannotTell
        } else {
            PortCheck::NotExposed
        }
    }

    /// Names of Services in a namespace that look like NATS (for help text).
    pub(crate) fn services_named_like_nats(&self, namespace: &str) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = self
            .services_by_namespace
            .get(&namespace)
            .iter()
            .map(|&index| self.inventory.services[index].object.name.as_str())
            .filter(|name| name.contains("nats"))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    pub(crate) fn service(&self, index: usize) -> &'a Service {
        &self.inventory.services[index]
    }

    /// Workloads of the input whose pods a Service's selector picks.
    pub(crate) fn backends(&self, service: &Service) -> Vec<usize> {
        let Some((key, value)) = service.selector.iter().next() else {
            return Vec::new();
        };
        let namespace = service.object.namespace.as_str();
        self.workloads_by_label
            .get(&(namespace, key.as_str(), value.as_str()))
            .iter()
            .copied()
            .filter(|&w| {
                let labels = &self.inventory.workloads[w].pod_labels;
                service
                    .selector
                    .iter()
                    .all(|(key, value)| labels.get(key) == Some(value))
            })
            .collect()
    }

    pub(crate) fn workloads_in(&self, namespace: &str) -> &[usize] {
        self.workloads.find(|k| k.cmp(&namespace))
    }

    pub(crate) fn policies_in(&self, namespace: &str) -> &[usize] {
        self.policies.find(|k| k.cmp(&namespace))
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

    /// The pods behind a Service port: its backends in the input, or, when the input
    /// has none, an unknown pod that carries at least the selector's labels.
    pub(crate) fn service_endpoint<'s>(
        &'s self,
        service: &'s Service,
        port: &'s ServicePort,
    ) -> Endpoint<'s> {
        let target = port.target_port.as_deref();
        let numeric_target = |text: Option<&str>| match text {
            None => Some(port.port),
            Some(text) => text.parse::<u16>().ok(),
        };
        let candidates: Vec<Candidate<'s>> = self
            .backends(service)
            .into_iter()
            .map(|w| {
                let workload = self.workload(w);
                let container_ports = workload.containers.iter().flat_map(|c| &c.ports);
                let number = numeric_target(target).or_else(|| {
                    container_ports
                        .clone()
                        .find(|p| p.name.as_deref() == target)
                        .map(|p| p.number)
                });
                let name = number.map(|n| {
                    container_ports
                        .clone()
                        .find(|p| p.number == n)
                        .and_then(|p| p.name.as_deref())
                });
                Candidate {
                    labels: complete_labels(&workload.pod_labels),
                    port: number,
                    port_name: name,
                }
            })
            .collect();
        let candidates = if candidates.is_empty() {
            let by_name = target.filter(|t| t.parse::<u16>().is_err());
            vec![Candidate {
                labels: KnownLabels {
                    labels: &service.selector,
                    complete: false,
                    extra: None,
                },
                port: numeric_target(target),
                port_name: by_name.map(Some),
            }]
        } else {
            candidates
        };
        Endpoint {
            namespace: &service.object.namespace,
            candidates,
        }
    }

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

/// The Service a server URL names, given its host's class, resolved from `namespace`;
/// `None` for hosts that are not Service names, and for FQDNs in another cluster domain
/// (which do not resolve at all: `url-cluster-domain` reports those).
fn service_of<'c>(
    context: &Context<'_>,
    class: &'c HostClass,
    server: &ServerUrl,
    namespace: &'c str,
) -> Option<(&'c str, &'c str)> {
    if let HostClass::ClusterFqdn { domain, .. } = class {
        if !domain.is_empty() && *domain != context.options.cluster_domain {
            return None;
        }
    }
    if matches!(server.port, Port::NotNumber(_)) {
        return None;
    }
    class.service(namespace)
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

/// A finding at a NetworkPolicy, unless the policy silences the rule.
pub(crate) fn policy_finding(
    rule: &'static crate::rules::Rule,
    policy: &NetworkPolicy,
    location: crate::diagnostic::Location,
    width: u32,
    message: String,
) -> Option<crate::diagnostic::Finding> {
    if policy.object.ignores(rule.code, rule.name) {
        return None;
    }
    let mut finding = rule.finding(location, width, message);
    finding.object = Some(policy.object.reference(Platform::Kubernetes));
    Some(finding)
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
