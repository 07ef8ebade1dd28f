use crate::diagnostic::Finding;
use crate::lint::context::{Context, MONITORING_PORT};
use crate::lint::namespaces;
use crate::lint::topology::{PortCheck, Target};
use crate::manifest::model::Service;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL whose port is not a port of the Service it names. The Service's
    /// `port` is what clients dial; its `targetPort` is the container port behind it and
    /// is not reachable through the Service's address. For a headless Service
    /// (`clusterIP: None`) clients dial the pods, so the container port is what counts.
    ///
    /// ## Why is this bad?
    /// The Service forwards only the ports it lists; a connection to any other port of
    /// its ClusterIP is refused or times out, and the error looks like NATS is down.
    ///
    /// ## Example
    /// ```yaml
    /// # Service nats-server: ports: [{name: client, port: 4222}]
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4443"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND203",
        name: "service-port-mismatch",
        severity: Error,
        summary: "the URL port is not a port of the Service it names",
        reads: Topology,
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    for resolved in topology.service_targets(ctx) {
        let Target::Found(index) = *resolved.target else {
            continue;
        };
        let (site, server) = (resolved.site, resolved.server);
        let Some(port) = server.port.number() else {
            continue;
        };
        let service = topology.service(index);
        if topology.port_check(service, port) != PortCheck::NotExposed {
            continue;
        }
        let (class, name, namespace) = resolved.service(ctx);
        let service_path = namespaces::path(&namespace, &name);
        let mut message = format!(
            "Service `{service_path}` has no port {port}{}",
            if service.headless { " on its pods" } else { "" }
        );
        let behind = service
            .ports
            .iter()
            .find(|p| p.target_port.as_deref() == Some(port.to_string().as_str()));
        if let (Some(behind), false) = (behind, service.headless) {
            message.push_str(&format!(
                "; {port} is the targetPort (container port) behind Service port {}, which is the one clients dial",
                behind.port
            ));
        } else {
            message.push_str(&format!(" (ports: {})", list_ports(service)));
        }
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let monitoring = resolved.expects.monitoring();
            let suggested = behind.filter(|_| !service.headless).or_else(|| {
                if monitoring {
                    monitoring_port(service)
                } else {
                    client_port(service)
                }
            });
            finding.help = Some(match suggested {
                Some(p) => {
                    // A Service of the group is found only from the group, by its short name.
                    let host = if namespaces::is_group(&namespace) {
                        name.clone()
                    } else {
                        format!("{name}.{namespace}.svc.{}", ctx.options.cluster_domain)
                    };
                    format!(
                        "use port {}: {}",
                        p.port,
                        ctx.address(resolved.expects, server.scheme.effective(), &host, p.port)
                    )
                }
                None if monitoring => format!(
                    "expose the NATS monitoring port ({MONITORING_PORT}, `monitor`) in Service `{service_path}`, or use one of its ports"
                ),
                None => {
                    format!("add port {port} to Service `{service_path}`, or use one of its ports")
                }
            });
            finding.runbook = ctx.runbook(Step::WrongUrl, site, Some(&class), Some(port));
            finding.relate(&service.object.location, "Service defined here");
            out.push(finding);
        }
    }
}

fn list_ports(service: &Service) -> String {
    if service.ports.is_empty() {
        return "none".to_string();
    }
    service
        .ports
        .iter()
        .map(|p| match &p.name {
            Some(name) => format!("{} {name}", p.port),
            None => p.port.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Service port of the NATS HTTP monitoring endpoint: named `monitor`, or 8222.
fn monitoring_port(service: &Service) -> Option<&crate::manifest::model::ServicePort> {
    service
        .ports
        .iter()
        .filter(|p| p.protocol.eq_ignore_ascii_case("TCP"))
        .find(|p| p.name.as_deref() == Some("monitor") || p.port == MONITORING_PORT)
}

/// The Service port a NATS client most likely means: named for clients or NATS, or
/// forwarding to the standard client port.
fn client_port(service: &Service) -> Option<&crate::manifest::model::ServicePort> {
    let tcp = || {
        service
            .ports
            .iter()
            .filter(|p| p.protocol.eq_ignore_ascii_case("TCP"))
    };
    tcp()
        .find(|p| {
            matches!(
                p.name.as_deref(),
                Some("client" | "nats" | "tcp-client" | "tcp-nats")
            )
        })
        .or_else(|| tcp().find(|p| p.port == crate::natsurl::DEFAULT_PORT))
        .or_else(|| {
            tcp().find(|p| {
                p.target_port.as_deref() == Some("4222")
                    || p.target_port.as_deref() == Some("client")
            })
        })
}
