use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::resolve::{OversizeKind, MAX_ENVIRONMENT, MAX_ENV_STRING};

declare_rule! {
    /// ## What it does
    /// Flags a container whose environment, as the kubelet builds it (`envFrom`, `env`,
    /// `$(VAR)` expanded once, in order), is larger than Linux lets a program start
    /// with: one `NAME=value` string longer than 128 KiB (`MAX_ARG_STRLEN`, 32 pages of
    /// 4 KiB), or all of them together, with a pointer each, over 6 MiB (three quarters
    /// of the 8 MiB `_STK_LIM`, the most any stack limit allows). Reported once per
    /// container, at the first variable that is too long (or at which the whole passes
    /// 6 MiB), counting the others. The lengths are worked out without building the
    /// values, so a value that doubles through `$(VAR)` costs the linter nothing.
    ///
    /// ## Why is this bad?
    /// `execve` fails with `E2BIG` ("argument list too long") and the container never
    /// starts, let alone reaches NATS. `$(VAR)` makes it easy to get there by accident:
    /// each reference copies the whole value it names, so a value referring twice to the
    /// one before doubles at every step.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - {name: SEEDS, value: "nats://nats-0.nats:4222,nats://nats-1.nats:4222"}
    /// - {name: SEEDS_2, value: "$(SEEDS),$(SEEDS)"}
    /// - {name: SEEDS_4, value: "$(SEEDS_2),$(SEEDS_2)"}
    /// # ... twelve more doublings
    /// - {name: NATS_URL, value: "$(SEEDS_32768)"}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - {name: NATS_URL, value: "nats://nats-0.nats:4222,nats://nats-1.nats:4222"}
    /// ```
    pub(crate) static RULE = {
        code: "ND311",
        name: "env-too-large",
        severity: Error,
        summary: "a container's environment is larger than Linux lets it start with",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for env in &ctx.envs {
        let Some(oversize) = &env.oversize else {
            continue;
        };
        let workload = &ctx.inventory.workloads[env.workload];
        if workload.ignores(RULE.code, RULE.name) {
            continue;
        }
        let container = &workload.containers[env.container];
        let message = match oversize.kind {
            OversizeKind::String => {
                let others = match oversize.others {
                    0 => String::new(),
                    1 => " (and 1 later variable)".to_string(),
                    n => format!(" (and {n} later variables)"),
                };
                format!(
                    "`{}` is {} long as the kubelet expands it{others}, more than the {} bytes Linux allows for one `NAME=value` environment string: container `{}` cannot start (E2BIG)",
                    oversize.name,
                    describe_length(oversize.length),
                    MAX_ENV_STRING,
                    container.name
                )
            }
            OversizeKind::Environment => format!(
                "with `{}`, the environment of container `{}` is over the {} bytes Linux allows for all environment strings together: it cannot start (E2BIG)",
                oversize.name, container.name, MAX_ENVIRONMENT
            ),
        };
        let mut finding = RULE.finding(oversize.location.clone(), oversize.width, message);
        finding.object = Some(workload.reference());
        finding.container = Some(container.name.to_string());
        finding.variable = Some(oversize.name.to_string());
        finding.help = Some(
            "set the value directly instead of building it from other variables with $(VAR), or mount large settings as a file"
                .to_string(),
        );
        out.push(finding);
    }
}

/// A length as a message gives it: exact up to a gibibyte, then "over 1 GiB" (lengths
/// that add up past the largest number saturate).
fn describe_length(length: usize) -> String {
    const GIB: usize = 1 << 30;
    if length > GIB {
        "over 1 GiB".to_string()
    } else {
        format!("{length} bytes")
    }
}
