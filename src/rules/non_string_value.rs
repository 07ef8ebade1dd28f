use crate::diagnostic::Finding;
use crate::lint::context::{Context, ENABLED_VARIABLE};
use crate::manifest::model::{Platform, RefKind, Value};
use crate::manifest::yaml::{yaml11_non_string_type, Style};

declare_rule! {
    /// ## What it does
    /// Flags an unquoted env `value:` or ConfigMap `data:` scalar that YAML 1.1, as
    /// Kubernetes decodes it, reads as a boolean (`true`, `yes`, `on`, `no`, ...), an
    /// integer (`4222`, `0x10`), a float (`1e3`, `3.5`) or null (`null`, `~`, nothing).
    /// Any env variable and any ConfigMap key is checked, not only NATS settings.
    ///
    /// ## Why is this bad?
    /// Env values and ConfigMap data must be strings. The API server rejects the whole
    /// object ("cannot unmarshal bool into Go struct field EnvVar.value of type
    /// string"), so the deploy fails; some tools instead drop the object silently.
    ///
    /// ## Example
    /// ```yaml
    /// - name: NATS_ENABLED
    ///   value: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_ENABLED
    ///   value: "true"
    /// ```
    pub(crate) static RULE = {
        code: "ND303",
        name: "non-string-value",
        severity: Error,
        summary: "unquoted env value or ConfigMap data that YAML 1.1 reads as bool/int/float/null",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for workload in &ctx.inventory.workloads {
        if workload.platform != Platform::Kubernetes || workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        for container in &workload.containers {
            for var in &container.env {
                let crate::manifest::model::EnvSource::Value(value) = &var.source else {
                    continue;
                };
                if let Some(mut finding) = finding(value, "env value", &var.name) {
                    finding.object = Some(workload.reference());
                    finding.container = Some(container.name.to_string());
                    finding.variable = Some(var.name.to_string());
                    out.push(finding);
                }
            }
        }
    }
    for data in &ctx.inventory.config_data {
        if data.object.ignores(RULE.code, RULE.name) {
            continue;
        }
        for entry in &data.entries {
            let Some(value) = &entry.value else { continue };
            let what = match data.kind {
                RefKind::ConfigMap => "ConfigMap data",
                RefKind::Secret => "Secret stringData",
            };
            if let Some(mut finding) = finding(value, what, &entry.key) {
                finding.object = Some(data.object.reference(Platform::Kubernetes));
                finding.variable = Some(entry.key.to_string());
                finding.hide_source = data.kind == RefKind::Secret;
                out.push(finding);
            }
        }
    }
}

/// The finding for `value`, written under `name`. The value of a secret-named variable
/// or key is never quoted: the message says what is wrong without it.
fn finding(value: &Value, what: &str, name: &str) -> Option<Finding> {
    if value.style != Some(Style::Plain) || value.not_scalar {
        return None;
    }
    let kind = yaml11_non_string_type(&value.text)?;
    let secret = crate::secret::is_secret_name(name);
    let message = if value.text.is_empty() {
        format!("empty unquoted {what} is null in YAML, not an empty string")
    } else if secret {
        format!(
            "unquoted {what} of `{name}` (not shown: the name says it is a secret) is a YAML 1.1 {kind}; the API server rejects the object because it must be a string"
        )
    } else {
        format!(
            "unquoted {what} `{}` is a YAML 1.1 {kind}; the API server rejects the object because it must be a string",
            value.text
        )
    };
    let mut finding = RULE.finding(value.location.clone(), value.width, message);
    finding.help = Some(if secret {
        "put the value in double quotes (better: in a Secret, read with secretKeyRef)".to_string()
    } else if name == ENABLED_VARIABLE && kind == "boolean" {
        // Quoted as written, `"yes"` would be a string that the services read as off
        // (ND302): the fix of both findings is the word they compare with.
        let meant = matches!(
            value.text.as_str(),
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        );
        format!(
            "quote it as the services read it: \"{}\"",
            if meant { "true" } else { "false" }
        )
    } else {
        format!("quote it: \"{}\"", value.text)
    });
    Some(finding)
}
