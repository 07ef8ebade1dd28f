use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::manifest::integrations::Expectation;
use crate::natsurl::SchemeSpec;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL without a scheme, or with a scheme that no NATS client accepts
    /// (anything but `nats://`, `tls://`, `ws://` and `wss://`): in `NATS_URL`, in every
    /// variable whose name says it holds a NATS address (`NATS_SERVERS`,
    /// `DEVICECONNECT_NATS_URI: "mongodb://mongo"`), and in the address fields of custom
    /// resources.
    ///
    /// A field read by nats.go or async-nats (NACK, Dapr, Argo Events, Knative,
    /// OpenFunction, Numaflow) and a `..._HOST` variable may leave the scheme out. A
    /// monitoring endpoint is HTTP: KEDA's `natsServerMonitoringEndpoint` must have no
    /// scheme at all (the scaler adds `http://` or `https://`), and a `NATS_MON_URL`
    /// takes `http://` or `https://`, never `nats://`.
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

/// Schemes written before a NATS server's host by mistake.
const WRONG_FOR_NATS: &[&str] = &["http", "https", "tcp", "ssl", "nat", "nat4"];

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        let site = &url_site.site;
        let expects = url_site.expects;
        // Formatted only for a finding: nearly every server has none.
        let host = || ctx.shown(site, &server.host.to_string()).into_owned();
        let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
        let written = match &server.scheme {
            SchemeSpec::Known(scheme) => Some(scheme.as_str()),
            SchemeSpec::Missing => None,
            SchemeSpec::Unsupported(scheme) => Some(scheme.as_str()),
        };
        let http = matches!(written, Some("http" | "https"));
        let (message, help) = match expects {
            Expectation::MonitoringHostPort => match written {
                None => continue,
                Some(scheme) => (
                    format!("the monitoring endpoint is written with `{scheme}://`; the reader adds http:// or https:// itself, so it dials `http://{scheme}://…`"),
                    format!("write host and port only: {}:{port} (set useHttps: \"true\" for https)", host()),
                ),
            },
            Expectation::MonitoringUrl => match written {
                None => continue,
                Some(_) if http => continue,
                Some(scheme) => (
                    format!("a NATS monitoring endpoint speaks HTTP, not `{scheme}://`"),
                    format!("use http://{}:{}", host(), crate::lint::context::MONITORING_PORT),
                ),
            },
            Expectation::Host | Expectation::Servers { scheme_optional: true }
                if written.is_none() =>
            {
                continue
            }
            _ => {
                let with_scheme = || {
                    format!(
                        "write the scheme: {}",
                        ctx.address(expects, None, &host(), port)
                    )
                };
                match &server.scheme {
                    SchemeSpec::Known(_) => continue,
                    SchemeSpec::Missing => (
                        "NATS URL has no scheme; clients disagree on what to assume".to_string(),
                        with_scheme(),
                    ),
                    // A NATS host written with the scheme of a web or TCP address.
                    SchemeSpec::Unsupported(scheme) if WRONG_FOR_NATS.contains(&scheme.as_str()) => (
                        format!("NATS URL scheme `{scheme}://` is not one of nats, tls, ws, wss"),
                        with_scheme(),
                    ),
                    // Another service's URL under a name that says NATS.
                    SchemeSpec::Unsupported(scheme) => (
                        format!("NATS URL scheme `{scheme}://` is not one of nats, tls, ws, wss: this is not the address of a NATS server"),
                        ctx.use_instead(expects, site),
                    ),
                }
            }
        };
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            finding.help = Some(help);
            finding.runbook = ctx.runbook(Step::WrongUrl, site, None, server.port.number());
            out.push(finding);
        }
    }
}
