//! Where a URL host leads: the Service a pod's resolver finds for it, whether that
//! Service takes the port dialled, and the pods behind it.

use super::{complete_labels, Candidate, Endpoint, Topology};
use crate::lint::context::{Context, Site};
use crate::lint::namespaces;
use crate::manifest::model::{KnownLabels, Platform, Service, ServicePort};
use crate::natsurl::{HostClass, Port, ServerUrl};

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

impl<'c> ServiceTarget<'c> {
    /// The host's class, with the Service it names and the namespace it is looked up in.
    /// Worked out again on each call: only the servers that are reported need it, and
    /// keeping it for every server would hold megabytes of names on a large input.
    pub(crate) fn service(&self, context: &Context<'_>) -> (HostClass<'c>, String, String) {
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

impl<'a> Topology<'a> {
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
        self.services_by_name.find(name)
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
