use crate::diagnostic::Finding;
use crate::lint::context::{Context, URL_VARIABLE};
use crate::manifest::model::Platform;
use crate::natsurl::DEFAULT_URL;
use crate::runbook::{self, Step};

declare_rule! {
    /// ## What it does
    /// Flags a container that is a NATS client (it sets a variable starting with
    /// `NATS_`, directly or through `envFrom`), has messaging enabled, and has no
    /// `NATS_URL`. Stays silent when an `envFrom` source is not in the input, since it
    /// may set `NATS_URL`.
    ///
    /// ## Why is this bad?
    /// Without `NATS_URL` the services fall back to `nats://localhost:4222`, which inside
    /// a pod is the pod itself: every publish fails, and the failures are only logged as
    /// warnings while extraction goes on.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: NATS_ENABLED
    ///   value: "true"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: NATS_ENABLED
    ///   value: "true"
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND301",
        name: "nats-url-missing",
        severity: Error,
        summary: "NATS client with messaging enabled has no NATS_URL (falls back to localhost)",
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for env in &ctx.envs {
        let workload = &ctx.inventory.workloads[env.workload];
        if !matches!(workload.platform, Platform::Kubernetes | Platform::Compose)
            || env.opaque
            || env.get(URL_VARIABLE).is_some()
            || !env.nats_client
            || ctx.messaging_enabled(env) != Some(true)
            || workload.ignores(RULE.code, RULE.name)
        {
            continue;
        }
        let container = &workload.containers[env.container];
        let message = format!(
            "container `{}` is a NATS client with messaging enabled but sets no NATS_URL; it will connect to {DEFAULT_URL}",
            container.name
        );
        let mut finding = RULE.finding(container.location.clone(), container.width, message);
        finding.object = Some(workload.reference());
        finding.container = Some(container.name.to_string());
        finding.variable = Some(URL_VARIABLE.to_string());
        finding.help = Some(format!(
            "set NATS_URL, e.g. {}",
            ctx.suggested_url(
                crate::natsurl::DEFAULT_PORT,
                (workload.platform == Platform::Kubernetes)
                    .then_some(workload.object.namespace.as_str()),
            )
        ));
        let names = runbook::Names {
            namespace: Some(workload.object.namespace.to_string()).filter(|ns| !ns.is_empty()),
            ..Default::default()
        };
        finding.runbook = Some(runbook::one_line(Step::WrongUrl, &names));
        out.push(finding);
    }
}
