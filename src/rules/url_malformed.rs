use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::natsurl::Entry;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a value that cannot be parsed as a NATS server list: an empty value or
    /// entry (`a,,b`, a trailing comma), whitespace, quotes that became part of the
    /// value, a port out of range or empty, an empty host, an IPv6 address without
    /// brackets.
    ///
    /// ## Why is this bad?
    /// Clients reject the value at connect time, or (worse) parse it differently: nats.go
    /// trims spaces around commas, async-nats and nats.py do not split lists at all.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-0.nats:4222, nats://nats-1.nats:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND107",
        name: "url-malformed",
        severity: Error,
        summary: "value cannot be parsed as a NATS server list",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for url_site in &ctx.url_sites {
        let site = &url_site.site;
        for entry in &url_site.entries {
            let Entry::Invalid { offset, error } = entry else {
                continue;
            };
            let position = if url_site.entries.len() > 1 {
                format!(" (entry at character {})", offset + 1)
            } else {
                String::new()
            };
            let message = format!("malformed NATS URL{position}: {error}");
            if let Some(mut finding) = ctx.site_finding(&RULE, site, message) {
                finding.help = Some(error.help().unwrap_or_else(|| {
                    "write one or more nats://host:port entries separated by commas, without spaces or quotes"
                        .to_string()
                }));
                finding.runbook = Some(ctx.runbook(Step::WrongUrl, site, None, None));
                out.push(finding);
            }
        }
    }
}
