use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::natsurl::{Port, NON_CLIENT_PORTS};
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL whose port is a NATS port that is not for clients (8222 HTTP
    /// monitoring, 6222 cluster routes, 7422 leaf nodes), or is not a number.
    ///
    /// ## Why is this bad?
    /// 8222 answers with HTTP, so clients fail with "expected INFO"; 6222 and 7422
    /// answer `-ERR 'attempted to connect to route port'`. A port that is not a number
    /// (`:nats`, an unexpanded `$(PORT)`) is rejected by every client.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:8222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND105",
        name: "url-port",
        severity: Warning,
        summary: "NATS URL port is a monitoring, route or leaf node port, or not a number",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        let site = &url_site.site;
        let message = match &server.port {
            Port::Explicit(port) => match NON_CLIENT_PORTS.iter().find(|(p, _)| p == port) {
                Some((_, what)) => format!("port {port} is {what}, not the client port 4222"),
                None => continue,
            },
            Port::NotNumber(text) => format!("port `{}` is not a number", ctx.shown(site, text)),
            Port::Default(_) => continue,
        };
        if let Some(mut finding) = ctx.site_finding(&RULE, site, message) {
            finding.help = Some(format!(
                "use the client port: nats://{}:4222",
                ctx.shown(site, &server.host.to_string())
            ));
            finding.runbook = Some(ctx.runbook(Step::WrongUrl, site, None, Some(4222)));
            out.push(finding);
        }
    }
}
