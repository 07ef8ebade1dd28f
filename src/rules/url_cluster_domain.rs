use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::natsurl::HostClass;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a fully qualified Service name (`name.namespace.svc.<domain>`) whose domain
    /// is not the cluster domain (`--cluster-domain`, default `cluster.local`).
    ///
    /// ## Why is this bad?
    /// The name only resolves in a cluster configured with that domain. It usually comes
    /// from another environment's config and fails with NXDOMAIN after the move.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.example:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND108",
        name: "url-cluster-domain",
        severity: Warning,
        summary: "Service FQDN uses a domain other than the cluster domain",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let expected = ctx.options.cluster_domain.trim_end_matches('.');
    for (url_site, server) in ctx.servers() {
        let class = ctx.classify(&server.host);
        let HostClass::ClusterFqdn {
            service,
            namespace,
            domain,
            subdomain,
        } = &class
        else {
            continue;
        };
        if *domain == expected {
            continue;
        }
        let site = &url_site.site;
        let message = format!(
            "Service name ends in `.svc.{}`, but the cluster domain is `{expected}`",
            ctx.shown(site, domain)
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let pod = subdomain
                .as_ref()
                .map(|s| format!("{s}."))
                .unwrap_or_default();
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            finding.help = Some(if site.hidden {
                format!("use the `.svc.{expected}` suffix (or pass --cluster-domain)")
            } else {
                let host = format!(
                    "{pod}{}.svc.{expected}",
                    namespaces::qualified(service, namespace)
                );
                format!(
                    "use {} (or pass --cluster-domain)",
                    ctx.address(url_site.expects, server.scheme.effective(), &host, port)
                )
            });
            finding.runbook = ctx.runbook(Step::ServiceNotFound, site, Some(&class), Some(port));
            out.push(finding);
        }
    }
}
