use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::natsurl::SchemeSpec;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL without a scheme, or with a scheme that no NATS client accepts
    /// (anything but `nats://`, `tls://`, `ws://` and `wss://`).
    ///
    /// ## Why is this bad?
    /// `http://` or `tcp://` make async-nats fail with "invalid scheme"; other clients
    /// fail in their own ways. A missing scheme is accepted by some clients and not by
    /// others (nats.py rebuilds such a URL and drops its credentials), so the same
    /// value behaves differently per service.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "http://nats-server.nats:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND104",
        name: "url-scheme",
        severity: Error,
        summary: "NATS URL scheme missing or not nats, tls, ws or wss",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        let site = &url_site.site;
        let message = match &server.scheme {
            SchemeSpec::Known(_) => continue,
            SchemeSpec::Missing => {
                "NATS URL has no scheme; clients disagree on what to assume".to_string()
            }
            SchemeSpec::Unsupported(scheme) => {
                format!("NATS URL scheme `{scheme}://` is not one of nats, tls, ws, wss")
            }
        };
        if let Some(mut finding) = ctx.site_finding(&RULE, site, message) {
            finding.help = Some(format!(
                "write the scheme: nats://{}:{}",
                ctx.shown(site, &server.host.to_string()),
                server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT)
            ));
            finding.runbook = Some(ctx.runbook(Step::WrongUrl, site, None, server.port.number()));
            out.push(finding);
        }
    }
}
