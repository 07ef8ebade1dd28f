use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::topology::Target;
use crate::runbook::Step;
use rustc_hash::FxHashMap;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL that names a Service (`nats-server`, `nats-server.nats`,
    /// `nats-server.nats.svc.cluster.local`) in a namespace the input covers, when no
    /// Service of that name exists there. A namespace counts as covered when the input
    /// holds at least one Service in it; `--strict-refs` checks every namespace.
    ///
    /// A short name used by a workload that names no namespace resolves among the
    /// objects without a namespace, which are deployed together into one namespace
    /// chosen at deploy time. It is reported when they have Services and not that one,
    /// and no namespace of the input has it either; when a named namespace has it, the
    /// workload may be deployed there and nothing is reported. Likewise a name in a
    /// named namespace is not reported when only the objects without a namespace have
    /// that Service: they may be deployed into that namespace.
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
        reads: Topology,
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let mut like_nats: FxHashMap<String, Vec<&str>> = FxHashMap::default();
    for resolved in topology.service_targets(ctx) {
        if *resolved.target != Target::Missing {
            continue;
        }
        let (site, server) = (resolved.site, resolved.server);
        let (class, name, namespace) = resolved.service(ctx);
        let group = namespaces::is_group(&namespace);
        let message = format!(
            "no Service `{name}` in {}{}; `{}` will not resolve",
            namespaces::describe(&namespace),
            if group {
                " (no namespace of the input has one)"
            } else {
                ""
            },
            ctx.shown(site, &server.host.to_string())
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            // Once per namespace: thousands of servers may miss in one namespace of
            // thousands of Services.
            let others = like_nats
                .entry(namespace.clone())
                .or_insert_with(|| topology.services_named_like_nats(&namespace));
            finding.help = Some(match (others.first(), group) {
                (None, true) => format!("create Service `{name}` with the objects that name no namespace, or point the URL at the Service that runs NATS"),
                (None, false) => format!("create Service `{name}` in namespace `{namespace}`, or point the URL at the Service that runs NATS"),
                // The group's pods reach its Services by their short names.
                (Some(first), true) => format!(
                    "the objects without a namespace have Service `{}`; use {}",
                    others.join("`, `"),
                    ctx.address(resolved.expects, server.scheme.effective(), first, port),
                ),
                (Some(first), false) => format!(
                    "namespace `{namespace}` has Service `{}`; use {}",
                    others.join("`, `"),
                    ctx.address(
                        resolved.expects,
                        server.scheme.effective(),
                        &format!("{first}.{namespace}.svc.{}", ctx.options.cluster_domain),
                        port
                    ),
                ),
            });
            finding.runbook = ctx.runbook(Step::ServiceNotFound, site, Some(&class), Some(port));
            out.push(finding);
        }
    }
}
