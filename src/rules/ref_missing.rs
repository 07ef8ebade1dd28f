use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::namespaces;
use crate::lint::refs::RefOutcome;

declare_rule! {
    /// ## What it does
    /// Flags a `configMapKeyRef`, `secretKeyRef` or `envFrom` that names a ConfigMap or
    /// Secret, or a key, that the workload's namespace does not have, unless the ref is
    /// `optional: true`. A namespace is judged only when the input holds at least one
    /// object of that kind (ConfigMap or Secret) there; `--strict-refs` judges every
    /// namespace.
    ///
    /// A workload that names no namespace is deployed with the other such objects into
    /// one namespace chosen at deploy time. Its ref is judged among those objects, and
    /// reported only when no namespace of the input has the object either: when one
    /// has, the workload may be deployed there and the ref would resolve. Likewise a
    /// ref from a named namespace to an object that only the objects without a
    /// namespace hold is not reported: they may be deployed into that namespace.
    ///
    /// ## Why is this bad?
    /// The kubelet refuses to start the container (`CreateContainerConfigError`), so the
    /// service never runs, let alone reaches NATS.
    ///
    /// ## Example
    /// ```yaml
    /// valueFrom:
    ///   configMapKeyRef: {name: petrosa-common-config, key: NATS_URLS}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// valueFrom:
    ///   configMapKeyRef: {name: petrosa-common-config, key: NATS_URL}
    /// ```
    pub(crate) static RULE = {
        code: "ND306",
        name: "ref-missing",
        severity: Error,
        summary: "ConfigMap/Secret or key referenced by env is not in the namespace",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for reference in ctx.broken_refs() {
        let message = match &reference.outcome {
            RefOutcome::MissingObject if namespaces::is_group(reference.namespace) => format!(
                "{} `{}` is not in the namespace chosen at deploy time (no namespace of the input has one)",
                reference.kind.as_str(),
                reference.name,
            ),
            RefOutcome::MissingObject => format!(
                "{} `{}` is not in namespace `{}`",
                reference.kind.as_str(),
                reference.name,
                reference.namespace
            ),
            RefOutcome::MissingKey => format!(
                "{} `{}` has no key `{}`",
                reference.kind.as_str(),
                reference.name,
                reference.key.unwrap_or_default()
            ),
            _ => continue,
        };
        if let Some(mut finding) = RULE.reference_finding(ctx, reference, message) {
            finding.help = Some(match reference.outcome {
                RefOutcome::MissingKey => format!(
                    "add the key to {} `{}`, fix the key name, or mark the ref `optional: true`",
                    reference.kind.as_str(),
                    reference.name
                ),
                _ if namespaces::is_group(reference.namespace) => format!(
                    "create {} `{}` with the objects that name no namespace, fix the name, or mark the ref `optional: true`",
                    reference.kind.as_str(),
                    reference.name,
                ),
                _ => format!(
                    "create {} `{}` in namespace `{}`, fix the name, or mark the ref `optional: true`",
                    reference.kind.as_str(),
                    reference.name,
                    reference.namespace
                ),
            });
            out.push(finding);
        }
    }
}
