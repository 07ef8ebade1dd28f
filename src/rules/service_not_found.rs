use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::topology::Target;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL that names a Service (`nats-server`, `nats-server.nats`,
    /// `nats-server.nats.svc.cluster.local`) in a namespace the input covers, when no
    /// Service of that name exists there. A namespace counts as covered when the input
    /// holds at least one Service in it; `--strict-refs` checks every namespace.
    ///
    /// ## Why is this bad?
    /// Cluster DNS has no record for a Service that does not exist: the client fails
    /// with a DNS error on every connection attempt, usually because of a typo or a
    /// Service that was renamed.
    ///
    /// ## Example
    /// ```yaml
    /// # the Service in namespace nats is called nats-server
    /// - name: NATS_URL
    ///   value: "nats://nats.nats.svc.cluster.local:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND202",
        name: "service-not-found",
        severity: Error,
        summary: "the URL names a Service that the input's namespace does not have",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    for resolved in topology.service_targets(ctx) {
        if *resolved.target != Target::Missing {
            continue;
        }
        let (site, server) = (resolved.site, resolved.server);
        let (class, name, namespace) = resolved.service(ctx);
        let message = format!(
            "no Service `{name}` in namespace `{namespace}`; `{}` will not resolve",
            ctx.shown(site, &server.host.to_string())
        );
        if let Some(mut finding) = ctx.site_finding(&RULE, site, message) {
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            let others = topology.services_named_like_nats(&namespace);
            finding.help = Some(if others.is_empty() {
                format!("create Service `{name}` in namespace `{namespace}`, or point the URL at the Service that runs NATS")
            } else {
                format!(
                    "namespace `{namespace}` has Service `{}`; use nats://{}.{namespace}.svc.{}:{port}",
                    others.join("`, `"),
                    others[0],
                    ctx.options.cluster_domain
                )
            });
            finding.runbook =
                Some(ctx.runbook(Step::ServiceNotFound, site, Some(&class), Some(port)));
            out.push(finding);
        }
    }
}
