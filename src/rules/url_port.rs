use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::context::MONITORING_PORT;
use crate::manifest::integrations::Expectation;
use crate::natsurl::{Port, NON_CLIENT_PORTS};
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL whose port is a NATS port that is not for clients (8222 HTTP
    /// monitoring, 6222 cluster routes, 7422 leaf nodes), or is not a number; also a
    /// `NATS_PORT` (beside a `NATS_HOST`) that is one of those or not a number.
    ///
    /// Where the value is a monitoring endpoint (KEDA's `natsServerMonitoringEndpoint`,
    /// a `NATS_MON_URL`) it is the other way round: 8222 is right, and the client port
    /// 4222, the route port and the leaf node port are the mistake. Where the reader
    /// appends the port itself (wasmCloud's `natsAddress`), any port written is.
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
        let expects = url_site.expects;
        // Formatted only for a finding: nearly every server has none.
        let host = || ctx.shown(site, &server.host.to_string()).into_owned();
        let (message, help) = match &server.port {
            Port::NotNumber(text) => (
                format!("port `{}` is not a number", ctx.shown(site, text)),
                port_help(expects, &host()),
            ),
            Port::Default(_) => continue,
            Port::Explicit(port) if expects == Expectation::ServerWithoutPort => (
                format!("port {port} is written in an address the reader appends its own port to (natsClientPort, natsLeafnodePort)"),
                format!("drop the port: nats://{}, and set natsClientPort if it is not 4222", host()),
            ),
            Port::Explicit(port) if expects.monitoring() => {
                let what = if *port == crate::natsurl::DEFAULT_PORT {
                    "the client port"
                } else {
                    match NON_CLIENT_PORTS.iter().find(|(p, _)| p == port) {
                        Some((_, what)) if *port != MONITORING_PORT => what,
                        _ => continue,
                    }
                };
                (
                    format!("port {port} is {what}, not the HTTP monitoring port {MONITORING_PORT}"),
                    port_help(expects, &host()),
                )
            }
            Port::Explicit(port) => match NON_CLIENT_PORTS.iter().find(|(p, _)| p == port) {
                Some((_, what)) => (
                    format!("port {port} is {what}, not the client port 4222"),
                    port_help(expects, &host()),
                ),
                None => continue,
            },
        };
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            finding.help = Some(help);
            finding.runbook = ctx.runbook(Step::WrongUrl, site, None, Some(4222));
            out.push(finding);
        }
    }
    for site in &ctx.port_sites {
        let text = site.text.as_ref();
        let message = match text.parse::<u16>() {
            Ok(0) | Err(_) => format!(
                "`{}` is not a port number between 1 and 65535",
                ctx.shown(site, text)
            ),
            Ok(port) => match NON_CLIENT_PORTS.iter().find(|(p, _)| *p == port) {
                Some((_, what)) => format!("port {port} is {what}, not the client port 4222"),
                None => continue,
            },
        };
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            finding.help = Some("use the client port: 4222".to_string());
            finding.runbook = ctx.runbook(Step::WrongUrl, site, None, Some(4222));
            out.push(finding);
        }
    }
}

/// How to write the right port, as the value is expected to be written.
fn port_help(expects: Expectation, host: &str) -> String {
    match expects {
        Expectation::MonitoringHostPort => {
            format!("use the monitoring port: {host}:{MONITORING_PORT}")
        }
        Expectation::MonitoringUrl => {
            format!("use the monitoring port: http://{host}:{MONITORING_PORT}")
        }
        Expectation::Host => "use the client port 4222 beside the host".to_string(),
        _ => format!("use the client port: nats://{host}:4222"),
    }
}
