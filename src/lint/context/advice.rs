//! What a finding suggests writing instead: the NATS Service of the input to name from
//! where the value is read, written as the value expects an address.

use super::{Context, Owner, Site};
use crate::lint::namespaces;
use crate::manifest::integrations::Expectation;
use crate::manifest::model::Platform;
use crate::natsurl;

/// A Service of the input that runs NATS: one of its ports is 4222 or is named
/// `client`, and its selector picks pods of the input that run a NATS server.
#[derive(Clone, Copy, Debug)]
pub(super) struct NatsService {
    /// Index into `Inventory::services`.
    index: usize,
    client_port: u16,
    /// The port 8222, or one named `monitor`, when the Service has one.
    monitor_port: Option<u16>,
    headless: bool,
}

/// Where a suggested address will be used from.
#[derive(Clone, Copy, Debug)]
pub enum Seen<'s> {
    /// Pods in this namespace.
    Pods(&'s str),
    /// A service of this compose file.
    Compose(&'s str),
    /// An env file or the process environment.
    Elsewhere,
}

impl<'a> Context<'a> {
    /// Where pods or services that read a site dial from, for [`Context::suggestion`].
    pub fn seen_from<'s>(&'s self, site: &'s Site) -> Seen<'s> {
        match site.platform {
            Platform::Kubernetes => Seen::Pods(site.namespace),
            Platform::Compose => {
                let workload = match site.owner {
                    Owner::Container { workload, .. } => Some(workload),
                    _ => site.consumers.first().map(|c| c.workload),
                };
                match workload {
                    Some(w) => Seen::Compose(&self.inventory.workloads[w].object.location.file),
                    None => Seen::Elsewhere,
                }
            }
            Platform::EnvFile | Platform::ProcessEnv => Seen::Elsewhere,
        }
    }

    /// What to write instead of a site's value, as a help line puts it: the NATS
    /// Service, the compose service that runs NATS, or the NATS host.
    pub fn use_instead(&self, expects: Expectation, site: &Site) -> String {
        let from = self.seen_from(site);
        let what = match from {
            Seen::Pods(_) => "the Service name",
            Seen::Compose(_) => "the compose service that runs NATS",
            Seen::Elsewhere => "the NATS server's host name",
        };
        format!("use {what}: {}", self.suggestion(expects, from))
    }

    /// The address to use instead, written as `expects` wants it: the NATS Service of
    /// the input (`--nats-service`, else the one in the pods' namespace, else the only
    /// one) as seen from where it is used, for compose the compose service that runs
    /// NATS, and a placeholder where the input has none — never a name the input
    /// does not hold.
    pub fn suggestion(&self, expects: Expectation, from: Seen<'_>) -> String {
        let domain = &self.options.cluster_domain;
        let (host, client, monitor) = match from {
            Seen::Pods(namespace) => match self.nats_service(namespace) {
                Some((name, service_namespace, client, monitor)) => {
                    let host = if namespaces::is_group(&service_namespace)
                        && namespaces::is_group(namespace)
                    {
                        name
                    } else {
                        format!(
                            "{}.svc.{domain}",
                            namespaces::qualified(&name, &service_namespace)
                        )
                    };
                    (host, client, monitor)
                }
                None => (
                    format!("<nats-service>.<namespace>.svc.{domain}"),
                    natsurl::DEFAULT_PORT,
                    None,
                ),
            },
            Seen::Compose(file) => {
                let service = self.inventory.workloads.iter().find(|w| {
                    w.platform == Platform::Compose
                        && *w.object.location.file == *file
                        && w.containers.iter().any(|c| c.nats_server)
                });
                (
                    service.map_or_else(
                        || "<nats-service>".to_string(),
                        |w| w.object.name.to_string(),
                    ),
                    natsurl::DEFAULT_PORT,
                    None,
                )
            }
            Seen::Elsewhere => ("<nats-host>".to_string(), natsurl::DEFAULT_PORT, None),
        };
        let monitor = monitor.unwrap_or(MONITORING_PORT);
        match expects {
            Expectation::Servers { .. } => format!("nats://{host}:{client}"),
            Expectation::Host => host,
            Expectation::ServerWithoutPort => format!("nats://{host}"),
            Expectation::MonitoringHostPort => format!("{host}:{monitor}"),
            Expectation::MonitoringUrl => format!("http://{host}:{monitor}"),
        }
    }

    /// An address as `expects` wants it written: `nats://host:port` for a server list
    /// (with `scheme` when one was written), `host` alone, `host:port` or
    /// `http://host:port` for a monitoring endpoint.
    pub fn address(
        &self,
        expects: Expectation,
        scheme: Option<natsurl::Scheme>,
        host: &str,
        port: u16,
    ) -> String {
        let scheme = scheme.unwrap_or(natsurl::Scheme::Nats).as_str();
        match expects {
            Expectation::Servers { .. } => format!("{scheme}://{host}:{port}"),
            Expectation::Host => host.to_string(),
            Expectation::ServerWithoutPort => format!("{scheme}://{host}"),
            Expectation::MonitoringHostPort => format!("{host}:{port}"),
            Expectation::MonitoringUrl => format!("http://{host}:{port}"),
        }
    }

    /// The NATS Service to name from pods in `namespace`: its name, namespace, client
    /// port and monitoring port. `--nats-service` when given; else the one in
    /// `namespace` (a ClusterIP Service before a headless one); else the only one of
    /// the input; else none.
    fn nats_service(&self, namespace: &str) -> Option<(String, String, u16, Option<u16>)> {
        let services = self.nats_services.get_or_init(|| self.find_nats_services());
        let described = |found: &NatsService| {
            let service = &self.inventory.services[found.index].object;
            (
                service.name.to_string(),
                service.namespace.to_string(),
                found.client_port,
                found.monitor_port,
            )
        };
        if let Some((wanted_namespace, wanted_name)) = &self.options.nats_service {
            let found = services.iter().find(|s| {
                let object = &self.inventory.services[s.index].object;
                object.name == wanted_name.as_str() && object.namespace == wanted_namespace.as_str()
            });
            return Some(match found {
                Some(found) => described(found),
                None => (
                    wanted_name.clone(),
                    wanted_namespace.clone(),
                    natsurl::DEFAULT_PORT,
                    None,
                ),
            });
        }
        let only = |candidates: Vec<&NatsService>| {
            let routed: Vec<&&NatsService> = candidates.iter().filter(|s| !s.headless).collect();
            match (routed.as_slice(), candidates.as_slice()) {
                ([one], _) => Some(***one),
                ([], [one]) => Some(**one),
                _ => None,
            }
        };
        let here: Vec<&NatsService> = services
            .iter()
            .filter(|s| self.inventory.services[s.index].object.namespace == namespace)
            .collect();
        let chosen = if here.is_empty() {
            only(services.iter().collect())
        } else {
            only(here)
        };
        chosen.map(|found| described(&found))
    }

    /// The Services of the input that run NATS (see [`NatsService`]).
    fn find_nats_services(&self) -> Vec<NatsService> {
        let topology = self.topology();
        let mut found = Vec::new();
        for (index, service) in self.inventory.services.iter().enumerate() {
            let client = service.ports.iter().find(|port| {
                port.port == natsurl::DEFAULT_PORT || port.name.as_deref() == Some("client")
            });
            let Some(client) = client else { continue };
            let runs_nats = topology.backends(service).into_iter().any(|w| {
                self.inventory.workloads[w]
                    .containers
                    .iter()
                    .any(|c| c.nats_server)
            });
            if !runs_nats {
                continue;
            }
            let monitor = service
                .ports
                .iter()
                .find(|port| {
                    port.port == MONITORING_PORT || port.name.as_deref() == Some("monitor")
                })
                .map(|port| port.port);
            found.push(NatsService {
                index,
                client_port: client.port,
                monitor_port: monitor,
                headless: service.headless,
            });
        }
        found
    }
}

/// The port of the NATS server's HTTP monitoring endpoint.
pub const MONITORING_PORT: u16 = 8222;
