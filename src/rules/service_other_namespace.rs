use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::topology::Target;
use crate::natsurl::HostClass;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL with a short host name (`nats-server`) when the namespace the
    /// pods run in has no Service of that name, but another namespace in the input has
    /// one. The help gives the fully qualified name to use.
    ///
    /// ## Why is this bad?
    /// A pod resolves a short name through its search list, which starts with its own
    /// namespace: `nats-server` from `petrosa-apps` means
    /// `nats-server.petrosa-apps.svc.cluster.local`. A Service in namespace `nats` is
    /// never found that way, and the client fails with a DNS error ("Name or service
    /// not known").
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment in petrosa-apps; Service nats-server in namespace nats
    /// - name: NATS_URL
    ///   value: "nats://nats-server:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND201",
        name: "service-other-namespace",
        severity: Error,
        summary: "short Service name used from a namespace where only another namespace has it",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    for resolved in topology.service_targets(ctx) {
        let Target::OtherNamespace(services) = resolved.target else {
            continue;
        };
        let (site, server) = (resolved.site, resolved.server);
        let (_, name, namespace) = resolved.service(ctx);
        let mut namespaces: Vec<&str> = services
            .iter()
            .map(|&s| topology.service(s).object.namespace.as_str())
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        let message = format!(
            "`{name}` resolves to namespace `{namespace}`, where the input has no Service `{name}`; the Service is in namespace `{}`",
            namespaces.join("`, `")
        );
        if let Some(mut finding) = ctx.site_finding(&RULE, site, message) {
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            let scheme = server
                .scheme
                .effective()
                .unwrap_or(crate::natsurl::Scheme::Nats);
            finding.help = Some(format!(
                "use the fully qualified name: {}://{name}.{}.svc.{}:{port}",
                scheme.as_str(),
                namespaces[0],
                ctx.options.cluster_domain
            ));
            let service_namespace = namespaces[0].to_string();
            let class = HostClass::Namespaced {
                service: name.to_string(),
                namespace: service_namespace,
            };
            finding.runbook =
                Some(ctx.runbook(Step::CrossNamespace, site, Some(&class), Some(port)));
            for &service in services {
                finding.relate(
                    &topology.service(service).object.location,
                    "Service defined here",
                );
            }
            out.push(finding);
        }
    }
}
