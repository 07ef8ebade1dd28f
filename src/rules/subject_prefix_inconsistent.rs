use crate::diagnostic::Finding;
use crate::lint::context::{Context, DEFAULT_PREFIX, PREFIX_VARIABLE};
use crate::lint::resolve::Resolved;
use crate::runbook::Step;
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it does
    /// Flags a `NATS_SUBJECT_PREFIX` that differs from the documented
    /// `binance.extraction`, naming every prefix the NATS-client workloads of the input
    /// use (unset counts as the default).
    ///
    /// ## Why is this bad?
    /// Consumers and the monitoring subjects (`binance.extraction.klines.*`, ...) assume
    /// one prefix. A service publishing under another prefix looks healthy, and its
    /// events never reach anyone.
    ///
    /// ## Example
    /// ```yaml
    /// data:
    ///   NATS_SUBJECT_PREFIX: "binance"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// data:
    ///   NATS_SUBJECT_PREFIX: "binance.extraction"
    /// ```
    pub(crate) static RULE = {
        code: "ND305",
        name: "subject-prefix-inconsistent",
        severity: Warning,
        summary: "NATS-client workloads use different subject prefixes, or not binance.extraction",
        check: check,
    };
}

/// The most other prefixes a finding names.
const SHOWN_PREFIXES: usize = 10;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut in_use = BTreeSet::new();
    for env in &ctx.envs {
        if !env.nats_client {
            continue;
        }
        match env.get(PREFIX_VARIABLE).map(|var| &var.value) {
            None if !env.opaque => {
                in_use.insert(DEFAULT_PREFIX);
            }
            // A prefix from a Secret or a secret-named variable is never quoted.
            Some(Resolved::Known { text, origin })
                if !origin.config.is_some_and(|index| {
                    ctx.inventory.config_data[index].kind == crate::manifest::model::RefKind::Secret
                }) && !crate::secret::is_secret_name(origin.key) =>
            {
                in_use.insert(text.as_ref());
            }
            _ => {}
        }
    }
    for site in &ctx.prefix_sites {
        if site.text == DEFAULT_PREFIX || crate::subject::prefix_problem(&site.text).is_some() {
            continue;
        }
        // The first few others, and how many more: thousands of workloads may each use
        // a prefix of their own.
        let count = in_use.len() - usize::from(in_use.contains(site.text.as_ref()));
        let others: Vec<&str> = in_use
            .iter()
            .copied()
            .filter(|prefix| *prefix != site.text)
            .take(SHOWN_PREFIXES)
            .collect();
        let mut message = format!(
            "subject prefix `{}` differs from the documented `{DEFAULT_PREFIX}` that the monitoring subjects assume",
            ctx.shown(site, &site.text)
        );
        if !others.is_empty() && !site.hidden {
            message.push_str(&format!("; other workloads use: {}", others.join(", ")));
            if count > others.len() {
                message.push_str(&format!(" and {} more", count - others.len()));
            }
        }
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            finding.help = Some(format!(
                "use \"{DEFAULT_PREFIX}\" everywhere, or silence with the nats-doctor/ignore annotation if the difference is deliberate"
            ));
            finding.runbook = ctx.runbook(Step::MessagesNotReceived, site, None, None);
            out.push(finding);
        }
    }
}
