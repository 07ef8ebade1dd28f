use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a `NATS_ENABLED` value that is neither `true` nor `false` (in any case).
    ///
    /// ## Why is this bad?
    /// The services compare `value.lower() == "true"`, so `1`, `yes`, `on` or `enabled`
    /// silently turn messaging off, and no event is ever published.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_ENABLED
    ///   value: "yes"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_ENABLED
    ///   value: "true"
    /// ```
    pub(crate) static RULE = {
        code: "ND302",
        name: "nats-enabled-invalid",
        severity: Warning,
        summary: "NATS_ENABLED is neither true nor false; consumers read it as false",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for site in &ctx.enabled_sites {
        let value = site.text.to_ascii_lowercase();
        if value == "true" || value == "false" {
            continue;
        }
        let message = format!(
            "NATS_ENABLED is `{}`; only `true` turns messaging on, anything else means off",
            ctx.shown(site, &site.text)
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            // The word a value meant, so that this help and ND303's on the same
            // unquoted value agree.
            let on = ["yes", "y", "on", "1", "enabled", "enable"];
            let off = ["no", "n", "off", "0", "disabled", "disable"];
            finding.help = Some(if on.contains(&value.as_str()) {
                "write \"true\"".to_string()
            } else if off.contains(&value.as_str()) {
                "write \"false\"".to_string()
            } else {
                "write \"true\" or \"false\"".to_string()
            });
            finding.runbook = ctx.runbook(Step::MessagesNotReceived, site, None, None);
            out.push(finding);
        }
    }
}
