use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL with embedded credentials (`user:password@` or `token@`) that
    /// is stored in plain text: a ConfigMap, a plain env `value`, a compose file or an
    /// env file. URLs read from a Secret are not flagged. Credentials are never printed;
    /// they show as `***`.
    ///
    /// ## Why is this bad?
    /// Anyone who can read the ConfigMap, the Deployment or the repository has the
    /// credentials. async-nats also ignores credentials in URLs, so Rust services fail
    /// with "Authorization Violation" while Python services connect.
    ///
    /// ## Example
    /// ```yaml
    /// data:
    ///   NATS_URL: "nats://app:s3cr3t@nats-server.nats:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:4222"
    /// - name: NATS_PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: {name: nats-credentials, key: password}
    /// ```
    pub(crate) static RULE = {
        code: "ND106",
        name: "url-credentials-exposed",
        severity: Error,
        summary: "credentials embedded in a NATS URL stored in plain text",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (url_site, server) in ctx.servers() {
        let site = &url_site.site;
        let Some(credentials) = &server.credentials else {
            continue;
        };
        if ctx.in_secret(site) {
            continue;
        }
        let what = match credentials {
            crate::natsurl::Credentials::Token(_) => "a token",
            crate::natsurl::Credentials::UserPassword { .. } => "a user and password",
        };
        let message = format!("NATS URL {} embeds {what} in plain text", server.masked());
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            finding.help = Some(match ctx.integration(site) {
                Some(integration) => format!(
                    "keep credentials in a Secret and give them to {} through the resource's credential fields, not the URL",
                    integration.project
                ),
                None => "keep credentials in a Secret (secretKeyRef) and pass them as NATS_USER/NATS_PASSWORD or NATS_TOKEN"
                    .to_string(),
            });
            finding.runbook = ctx.runbook(Step::Credentials, site, None, None);
            out.push(finding);
        }
    }
}
