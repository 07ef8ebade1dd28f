use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::manifest::model::Platform;
use crate::natsurl::{HostClass, IpRange};
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL in a workload whose host is `localhost`, an address in
    /// 127.0.0.0/8 or `::1`, unless another container of the same pod listens on the
    /// URL's port (a NATS sidecar).
    ///
    /// In the address field of a custom resource, localhost is the pod of whatever
    /// reads it: the NACK controller for `spec.servers` of NACK's Stream, Consumer,
    /// KeyValue, ObjectStore and Account; the KEDA operator for a trigger's
    /// `natsServerMonitoringEndpoint`; the event source and sensor pods of Argo Events;
    /// the vertex pods of Numaflow. Dapr Components are left alone: the same file also
    /// configures `dapr run` outside Kubernetes, where localhost is right.
    ///
    /// ## Why is this bad?
    /// Inside a pod, localhost is the pod itself. Unless NATS runs as a sidecar, nothing
    /// listens there and every publish fails with "connection refused". This is also
    /// what a service does when `NATS_URL` is copied from a local `.env` file.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://localhost:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats.nats.svc.cluster.local:4222"   # the NATS Service
    /// ```
    pub(crate) static RULE = {
        code: "ND102",
        name: "url-localhost",
        severity: Error,
        summary: "NATS URL points at localhost inside a pod with no NATS sidecar",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        let site = &url_site.site;
        let loopback = match ctx.classify(&server.host) {
            HostClass::Localhost => true,
            HostClass::Ip { range, .. } => range == IpRange::Loopback,
            _ => false,
        };
        if !loopback {
            continue;
        }
        let port = server.port.number();
        let shown_port = port.map_or_else(|| "?".to_string(), |p| p.to_string());
        let host = ctx.shown(site, &server.host.to_string()).into_owned();
        let message = match ctx.field(site) {
            // A field of a custom resource is dialled by the integration's own pods.
            Some(field) => match field.integration.localhost {
                Some(pod) => format!(
                    "NATS URL host {host} in a {} {} means {pod}, where no NATS server listens on port {shown_port}",
                    field.integration.project, field.object.kind
                ),
                None => continue,
            },
            None => {
                if site.consumers.is_empty() {
                    continue;
                }
                let without_sidecar = site.consumers.iter().any(|consumer| {
                    let workload = &ctx.inventory.workloads[consumer.workload];
                    if !matches!(workload.platform, Platform::Kubernetes | Platform::Compose) {
                        return false;
                    }
                    !workload
                        .containers
                        .iter()
                        .enumerate()
                        .any(|(index, container)| {
                            index != consumer.container
                                && container.ports.iter().any(|p| Some(p.number) == port)
                        })
                });
                if !without_sidecar {
                    continue;
                }
                if site.platform == Platform::Compose {
                    format!("NATS URL host {host} is the container itself, where no NATS server listens on port {shown_port}")
                } else {
                    format!("NATS URL host {host} is the pod itself, and no other container in the pod listens on port {shown_port}")
                }
            }
        };
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let port = port.unwrap_or(crate::natsurl::DEFAULT_PORT);
            finding.help = Some(ctx.use_instead(url_site.expects, site));
            finding.runbook = ctx.runbook(Step::WrongUrl, site, None, Some(port));
            out.push(finding);
        }
    }
}
