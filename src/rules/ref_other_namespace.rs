use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::refs::RefOutcome;

declare_rule! {
    /// ## What it does
    /// Flags a `configMapKeyRef`, `secretKeyRef` or `envFrom` whose ConfigMap or Secret
    /// exists in the input, but only in other namespaces than the workload's.
    ///
    /// Objects that name no namespace are deployed together into one namespace chosen
    /// at deploy time, which may be any namespace. A ref between them and a named
    /// namespace is therefore not reported: a workload without a namespace whose Secret
    /// is only in namespace `keptn` works when it is deployed into `keptn`, and a
    /// workload in `keptn` whose ConfigMap names no namespace works when that ConfigMap
    /// is applied into `keptn`.
    ///
    /// ## Why is this bad?
    /// References resolve only within the pod's own namespace. The object in the other
    /// namespace is invisible to the pod, which fails with `CreateContainerConfigError`
    /// (or, with `optional: true`, starts without the settings and falls back to
    /// localhost).
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment in namespace petrosa-apps, ConfigMap in namespace nats
    /// envFrom:
    /// - configMapRef: {name: nats-client-config}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # a copy of the ConfigMap in petrosa-apps, or the settings in the Deployment
    /// envFrom:
    /// - configMapRef: {name: nats-client-config}
    /// ```
    pub(crate) static RULE = {
        code: "ND307",
        name: "ref-other-namespace",
        severity: Error,
        summary: "referenced ConfigMap/Secret exists only in another namespace",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for reference in ctx.broken_refs() {
        let RefOutcome::OtherNamespace { first, count } = &reference.outcome else {
            continue;
        };
        let more = match count - first.len() {
            0 => String::new(),
            1 => " and 1 more".to_string(),
            more => format!(" and {more} more"),
        };
        let message = format!(
            "{} `{}` is in namespace `{}`{more}, not in `{}` where the pod runs; refs do not cross namespaces",
            reference.kind.as_str(),
            reference.name,
            first.join("`, `"),
            reference.namespace
        );
        if let Some(mut finding) = RULE.reference_finding(ctx, reference, message) {
            finding.help = Some(format!(
                "create {} `{}` in namespace `{}` as well",
                reference.kind.as_str(),
                reference.name,
                reference.namespace
            ));
            out.push(finding);
        }
    }
}
