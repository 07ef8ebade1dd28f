use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::runbook::Step;

declare_rule! {
    /// ## What it does
    /// Flags a `NATS_SUBJECT_PREFIX` that is empty, contains whitespace or the wildcards
    /// `*` and `>`, or has empty tokens (`a..b`, a leading or trailing dot).
    ///
    /// ## Why is this bad?
    /// Subjects are `{prefix}.{type}.{symbol}.{period}`. Publishing to a subject with a
    /// wildcard or an empty token fails with "invalid subject", and whitespace splits
    /// the protocol line; the services only log a warning and no event arrives.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_SUBJECT_PREFIX
    ///   value: "binance.extraction."
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_SUBJECT_PREFIX
    ///   value: "binance.extraction"
    /// ```
    pub(crate) static RULE = {
        code: "ND304",
        name: "subject-prefix-invalid",
        severity: Error,
        summary: "NATS_SUBJECT_PREFIX is empty, has whitespace, wildcards or empty tokens",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for site in &ctx.prefix_sites {
        let Some(problem) = crate::subject::prefix_problem(&site.text) else {
            continue;
        };
        let message = format!(
            "NATS_SUBJECT_PREFIX `{}` {problem}",
            ctx.shown(site, &site.text)
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            finding.help = Some(format!(
                "use dot-separated tokens, e.g. \"{}\"",
                crate::lint::context::DEFAULT_PREFIX
            ));
            finding.runbook = ctx.runbook(Step::MessagesNotReceived, site, None, None);
            out.push(finding);
        }
    }
}
