//! Whether a site belongs to the documented services, and the runbook step of their
//! troubleshooting guide that a finding at it points to.

use super::{Context, Owner, Site, ENABLED_VARIABLE, PREFIX_VARIABLE};
use crate::lint::namespaces;
use crate::lint::resolve::ContainerEnv;
use crate::manifest::model::Platform;
use crate::natsurl::HostClass;
use crate::runbook::{self, Step};

impl<'a> Context<'a> {
    /// The runbook step for a finding at a site, filled in with the names the input
    /// gives: the object the value is written in, the namespace, and the Service its URL
    /// points at. `None` for inputs of other projects (see [`Context::documented`]): the
    /// troubleshooting guide is the documented services' own.
    pub fn runbook(
        &self,
        step: Step,
        site: &Site,
        class: Option<&HostClass>,
        port: Option<u16>,
    ) -> Option<String> {
        // The steps are kubectl commands: compose files and env files have none.
        if site.platform != Platform::Kubernetes || !self.documented(site) {
            return None;
        }
        let service = class.and_then(|c| c.service(site.namespace));
        let names = runbook::Names {
            namespace: namespaces::named(site.namespace),
            service: service.map(|(s, _)| s.to_string()),
            service_namespace: service.and_then(|(_, ns)| namespaces::named(ns)),
            host: None,
            port,
            origin: self
                .source_object(site)
                .map(|(kind, name)| runbook::Origin::Object { kind, name }),
            ..runbook::Names::default()
        };
        Some(runbook::documented_line(step, &names))
    }

    /// The object a site's value is written in, as `kubectl get` names it: a ConfigMap or
    /// Secret (whose commands only describe it), the workload whose own env holds it, or
    /// the custom resource.
    fn source_object(&self, site: &Site) -> Option<(String, String)> {
        match site.owner {
            Owner::Config(index) => {
                let data = &self.inventory.config_data[index];
                Some((
                    data.kind.as_str().to_ascii_lowercase(),
                    data.object.name.to_string(),
                ))
            }
            Owner::Container { workload, .. } => {
                let workload = &self.inventory.workloads[workload];
                (workload.platform == Platform::Kubernetes).then(|| {
                    (
                        workload.object.kind.to_ascii_lowercase().to_string(),
                        workload.object.name.to_string(),
                    )
                })
            }
            Owner::Field(index) => {
                let field = &self.inventory.address_fields[index];
                Some((
                    field.object.kind.to_ascii_lowercase().to_string(),
                    field.object.name.to_string(),
                ))
            }
        }
    }

    /// Whether a site belongs to the documented services: it is read by a container that
    /// sets their own settings (`NATS_ENABLED`, `NATS_SUBJECT_PREFIX`), or written in a
    /// ConfigMap or Secret that holds them. Their troubleshooting guide fits only
    /// them.
    pub fn documented(&self, site: &Site) -> bool {
        let documented_container = |workload: usize, container: usize| {
            self.env_of(workload, container)
                .is_some_and(|env| documented_client(env))
        };
        let read_by_documented = site
            .consumers
            .iter()
            .any(|c| documented_container(c.workload, c.container));
        read_by_documented
            || match site.owner {
                Owner::Config(index) => self.documented_configs[index],
                Owner::Container {
                    workload,
                    container,
                } => documented_container(workload, container),
                Owner::Field(_) => false,
            }
    }

    /// Whether a workload has a container of the documented services (see
    /// [`documented_client`]).
    pub fn documented_workload(&self, workload: usize) -> bool {
        self.documented.get(workload).copied().unwrap_or(false)
    }
}

/// Whether a container sets the documented services' own settings, directly or
/// through `envFrom`: only such a container reads `NATS_URL` and falls back to
/// localhost without it.
pub fn documented_client(env: &ContainerEnv) -> bool {
    env.get(ENABLED_VARIABLE).is_some() || env.get(PREFIX_VARIABLE).is_some()
}
