use crate::diagnostic::Finding;
use crate::lint::context::{Context, Seen};
use crate::natsurl::HostClass;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL whose host is a DNS name outside the cluster: not a short
    /// Service name, not `name.<namespace>` and not `name.<namespace>.svc[.<domain>]`.
    /// A two-label name whose last label is a real top-level domain (from the Public
    /// Suffix List) and not a namespace of the input is outside the cluster.
    ///
    /// ## Why is this bad?
    /// Traffic to an external name leaves the cluster network: it depends on external
    /// DNS and routing, is not covered by NetworkPolicies, and breaks when the machine
    /// behind the name changes.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://external-server.com:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND103",
        name: "url-external-host",
        severity: Error,
        summary: "NATS URL host is a DNS name outside the cluster",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        if ctx.classify(&server.host) != HostClass::External {
            continue;
        }
        let site = &url_site.site;
        let message = format!(
            "NATS URL host {} is outside the cluster",
            ctx.shown(site, &server.host.to_string())
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            finding.help = Some(match ctx.seen_from(site) {
                Seen::Pods(_) => format!(
                    "use the in-cluster Service name: {}; if the namespace is real, add --known-namespace",
                    ctx.suggestion(url_site.expects, ctx.seen_from(site))
                ),
                _ => ctx.use_instead(url_site.expects, site),
            });
            finding.runbook = ctx.runbook(Step::WrongUrl, site, None, Some(port));
            out.push(finding);
        }
    }
}
