use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::refs::{self, RefOutcome};

declare_rule! {
    /// ## What it does
    /// Flags a `configMapKeyRef`, `secretKeyRef` or `envFrom` that names a ConfigMap or
    /// Secret, or a key, that the workload's namespace does not have, unless the ref is
    /// `optional: true`. A namespace is judged only when the input holds at least one
    /// object of that kind (ConfigMap or Secret) there; `--strict-refs` judges every
    /// namespace.
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
    for reference in refs::broken(ctx) {
        let message = match &reference.outcome {
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
        if let Some(mut finding) = refs::finding(ctx, &RULE, &reference, message) {
            finding.help = Some(match reference.outcome {
                RefOutcome::MissingKey => format!(
                    "add the key to {} `{}`, fix the key name, or mark the ref `optional: true`",
                    reference.kind.as_str(),
                    reference.name
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
