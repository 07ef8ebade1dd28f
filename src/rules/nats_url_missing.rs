use crate::diagnostic::Finding;
use crate::lint::addresses::{self, NamedAddress};
use crate::lint::context::{self, Context, Seen, URL_VARIABLE};
use crate::manifest::integrations::Expectation;
use crate::manifest::model::Platform;
use crate::natsurl::DEFAULT_URL;
use crate::runbook::{self, Step};

declare_rule! {
    /// ## What it does
    /// Flags a container of the documented services that has messaging enabled and no
    /// `NATS_URL`. A container is one of them when it sets their own settings,
    /// `NATS_ENABLED` or `NATS_SUBJECT_PREFIX` (directly or through `envFrom`); those
    /// services read `NATS_URL` and nothing else.
    ///
    /// It stays silent when the container sets another variable that holds a NATS
    /// address (`NATS_SERVERS`, `NATS_SERVER`, `NATS_ADDRESS`, `NATS_HOST`, `NATS_URI`,
    /// `<APP>_NATS_URL`, a `--url-var`: it is another app, which reads that one), when
    /// it runs a NATS server itself (a `nats` image, `nats-server`, a `nats.conf`), and
    /// when an `envFrom` source is not in the input (it may set `NATS_URL`). A
    /// `NATS_URL` renamed by an `envFrom` prefix (`APP_NATS_URL`) is not read, and is
    /// reported.
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
    ///   value: "nats://nats.nats.svc.cluster.local:4222"   # the NATS Service of your cluster
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
        let container = &workload.containers[env.container];
        if !matches!(workload.platform, Platform::Kubernetes | Platform::Compose)
            || env.opaque
            || env.get(URL_VARIABLE).is_some()
            || !context::documented_client(env)
            || container.nats_server
            || ctx.messaging_enabled(env) != Some(true)
            || workload.ignores(RULE.code, RULE.name)
        {
            continue;
        }
        let address = |prefixed: bool| {
            env.vars.iter().find(|var| {
                var.prefixed == prefixed
                    && matches!(
                        addresses::by_name(&var.name, &ctx.options.url_vars),
                        Some(NamedAddress::Address(_))
                    )
            })
        };
        if address(false).is_some() {
            continue;
        }
        let renamed = address(true)
            .map(|var| {
                format!(
                    " ({} comes from an envFrom prefix and is not read)",
                    var.name
                )
            })
            .unwrap_or_default();
        let message = format!(
            "container `{}` is a NATS client with messaging enabled but sets no NATS_URL{renamed}; it will connect to {DEFAULT_URL}",
            container.name
        );
        let mut finding = RULE.finding(container.location.clone(), container.width, message);
        finding.object = Some(workload.reference());
        finding.container = Some(container.name.to_string());
        finding.variable = Some(URL_VARIABLE.to_string());
        let from = match workload.platform {
            Platform::Kubernetes => Seen::Pods(&workload.object.namespace),
            _ => Seen::Compose(&workload.object.location.file),
        };
        finding.help = Some(format!(
            "set NATS_URL, e.g. {}",
            ctx.suggestion(
                Expectation::Servers {
                    scheme_optional: false
                },
                from
            )
        ));
        if workload.platform == Platform::Kubernetes {
            let names = runbook::Names {
                namespace: Some(workload.object.namespace.to_string()).filter(|ns| !ns.is_empty()),
                origin: Some(runbook::Origin::Object {
                    kind: workload.object.kind.to_ascii_lowercase().to_string(),
                    name: workload.object.name.to_string(),
                }),
                ..Default::default()
            };
            finding.runbook = Some(runbook::documented_line(Step::WrongUrl, &names));
        }
        out.push(finding);
    }
}
