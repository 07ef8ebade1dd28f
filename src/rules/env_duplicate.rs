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

/// Containers with at most this many variables are searched without a map.
const LINEAR_SEARCH: usize = 16;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for workload in &ctx.inventory.workloads {
        if workload.platform != Platform::Kubernetes || workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        for container in &workload.containers {
            let env = &container.env;
            // A few variables are compared with those before them; a long list (a
            // generated one, or a hostile one) is looked up by name instead. A map per
            // container, for its six variables, was most of this rule's time on the
            // shared benchmark corpus.
            let mut first = FxHashMap::default();
            if env.len() > LINEAR_SEARCH {
                first.reserve(env.len());
            }
            for (at, var) in env.iter().enumerate() {
                let previous = if env.len() <= LINEAR_SEARCH {
                    env[..at].iter().find(|earlier| earlier.name == var.name)
                } else {
                    match first.entry(var.name.as_str()) {
                        std::collections::hash_map::Entry::Occupied(entry) => Some(*entry.get()),
                        std::collections::hash_map::Entry::Vacant(entry) => {
                            entry.insert(var);
                            None
                        }
                    }
                };
                let Some(previous) = previous else {
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
