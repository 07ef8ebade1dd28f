use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::natsurl::{HostClass, IpRange};
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL whose host is an IPv4 or IPv6 address, and says whether the
    /// address is private (a pod IP or ClusterIP), link-local or public.
    ///
    /// ## Why is this bad?
    /// Pod IPs change on every restart and ClusterIPs change when the Service is
    /// recreated; a public address leaves the cluster and bypasses NetworkPolicies.
    /// The Service name is resolved by cluster DNS and follows NATS wherever it runs.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: NATS_URL
    ///   value: "nats://192.168.194.253:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND101",
        name: "url-ip-literal",
        severity: Error,
        summary: "NATS URL host is an IP address instead of a Service name",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        let class = ctx.classify(&server.host);
        let HostClass::Ip { range, .. } = class else {
            continue;
        };
        // Loopback is `url-localhost`'s business.
        if range == IpRange::Loopback {
            continue;
        }
        let site = &url_site.site;
        let host = server.host.to_string();
        let message = format!(
            "NATS URL host {} is an IP address: {}",
            ctx.shown(site, &host),
            range.describe()
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            finding.help = Some(ctx.use_instead(url_site.expects, site));
            finding.runbook = ctx.runbook(Step::WrongUrl, site, None, Some(port));
            out.push(finding);
        }
    }
}
