use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::manifest::model::Platform;
use rustc_hash::FxHashMap;

declare_rule! {
    /// ## What it does
    /// Flags a variable name that appears twice in one container's `env` list.
    ///
    /// ## Why is this bad?
    /// The last entry wins, silently. The first one is what a reviewer reads, and what a
    /// patch (`kubectl set env`, Kustomize) may change to no effect.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:4222"
    /// - name: NATS_URL
    ///   value: "nats://localhost:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND308",
        name: "env-duplicate",
        severity: Warning,
        summary: "the same variable twice in one container's env",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for workload in &ctx.inventory.workloads {
        if workload.platform != Platform::Kubernetes || workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        for container in &workload.containers {
            let mut first = FxHashMap::default();
            for var in &container.env {
                let Some(previous) = first.get(var.name.as_str()) else {
                    first.insert(var.name.as_str(), var);
                    continue;
                };
                // The first place is a related location, not a line number in the
                // message: a rendered chart's lines are not its template's.
                let message = format!(
                    "`{}` is set again in container `{}`; the last one wins",
                    var.name, container.name
                );
                let mut finding = RULE.finding(var.name_location.clone(), var.name_width, message);
                finding.object = Some(workload.reference());
                finding.container = Some(container.name.to_string());
                finding.variable = Some(var.name.to_string());
                finding.help = Some("remove one of the entries".to_string());
                finding.relate(&previous.name_location, "first set here");
                out.push(finding);
            }
        }
    }
}
