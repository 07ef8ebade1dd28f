use crate::diagnostic::Finding;
use crate::lint::context::Context;

declare_rule! {
    /// ## What it does
    /// Flags `$(VAR)` in a NATS setting (a variable starting with `NATS_`, or one given
    /// with `--url-var`) when `VAR` is not defined before it in the same container.
    /// Stays silent when an `envFrom` source is not in the input.
    ///
    /// ## Why is this bad?
    /// Kubernetes expands `$(VAR)` only from variables defined earlier in the list; an
    /// undefined reference stays in the value as the literal text `$(VAR)`, so the URL
    /// becomes `nats://$(NATS_HOST):4222`.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://$(NATS_HOST):4222"
    /// - name: NATS_HOST
    ///   value: "nats-server.nats"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_HOST
    ///   value: "nats-server.nats"
    /// - name: NATS_URL
    ///   value: "nats://$(NATS_HOST):4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND309",
        name: "env-expansion-undefined",
        severity: Warning,
        summary: "$(VAR) in a NATS value refers to a variable not defined before it",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for env in &ctx.envs {
        let workload = &ctx.inventory.workloads[env.workload];
        if workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        let container = &workload.containers[env.container];
        for var in &env.vars {
            let nats = var.name.starts_with("NATS_")
                || ctx.options.url_vars.iter().any(|v| *v == var.name);
            let Some((location, width)) = &var.written_at else {
                continue;
            };
            if !nats || var.undefined.is_empty() {
                continue;
            }
            let names: Vec<String> = var.undefined.iter().map(|n| format!("$({n})")).collect();
            let message = format!(
                "{} in `{}` is not defined before it and stays in the value as literal text",
                names.join(", "),
                var.name
            );
            let mut finding = RULE.finding((*location).clone(), *width, message);
            finding.object = Some(workload.reference());
            finding.container = Some(container.name.to_string());
            finding.variable = Some(var.name.to_string());
            finding.help = Some(format!(
                "define {} earlier in the env list of container `{}`",
                var.undefined.join(", "),
                container.name
            ));
            out.push(finding);
        }
    }
}
