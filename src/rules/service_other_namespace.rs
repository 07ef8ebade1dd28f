use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::lint::refs::SHOWN_NAMESPACES;
use crate::lint::topology::Target;
use crate::natsurl::HostClass;
use crate::runbook::Step;
use rustc_hash::FxHashMap;

declare_rule! {
    /// ## What it does
    /// Flags a NATS URL with a short host name (`nats-server`) when the namespace the
    /// pods run in has no Service of that name, but another namespace in the input has
    /// one. The help gives the fully qualified name to use.
    ///
    /// ## Why is this bad?
    /// A pod resolves a short name through its search list, which starts with its own
    /// namespace: `nats-server` from `petrosa-apps` means
    /// `nats-server.petrosa-apps.svc.cluster.local`. A Service in namespace `nats` is
    /// never found that way, and the client fails with a DNS error ("Name or service
    /// not known").
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment in petrosa-apps; Service nats-server in namespace nats
    /// - name: NATS_URL
    ///   value: "nats://nats-server:4222"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: NATS_URL
    ///   value: "nats://nats-server.nats.svc.cluster.local:4222"
    /// ```
    pub(crate) static RULE = {
        code: "ND201",
        name: "service-other-namespace",
        severity: Error,
        summary: "short Service name used from a namespace where only another namespace has it",
        reads: Topology,
        check: check,
    };
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let topology = ctx.topology();
    let mut namespaces_of: FxHashMap<String, (Vec<&str>, usize)> = FxHashMap::default();
    for resolved in topology.service_targets(ctx) {
        if *resolved.target != Target::OtherNamespace {
            continue;
        }
        let (site, server) = (resolved.site, resolved.server);
        let (_, name, namespace) = resolved.service(ctx);
        let services = topology.services_named(&name);
        // The namespaces of a name, once per name: thousands of servers may name a
        // Service that thousands of namespaces have.
        let (namespaces, count) = namespaces_of.entry(name.clone()).or_insert_with(|| {
            let mut namespaces: Vec<&str> = services
                .iter()
                .map(|&s| topology.service(s).object.namespace.as_str())
                .collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            let count = namespaces.len();
            namespaces.truncate(SHOWN_NAMESPACES);
            (namespaces, count)
        });
        let more = match *count - namespaces.len() {
            0 => String::new(),
            more => format!(" and {more} more"),
        };
        let message = format!(
            "`{name}` resolves to namespace `{namespace}`, where the input has no Service `{name}`; the Service is in namespace `{}`{more}",
            namespaces.join("`, `")
        );
        if let Some(mut finding) = RULE.site_finding(ctx, site, message) {
            let port = server.port.number().unwrap_or(crate::natsurl::DEFAULT_PORT);
            let scheme = server
                .scheme
                .effective()
                .unwrap_or(crate::natsurl::Scheme::Nats);
            let host = format!(
                "{name}.{}.svc.{}",
                namespaces[0], ctx.options.cluster_domain
            );
            finding.help = Some(format!(
                "use the fully qualified name: {}",
                ctx.address(resolved.expects, Some(scheme), &host, port)
            ));
            let class = HostClass::Namespaced {
                service: &name,
                namespace: namespaces[0],
            };
            finding.runbook = ctx.runbook(Step::CrossNamespace, site, Some(&class), Some(port));
            for &service in services.iter().take(SHOWN_NAMESPACES) {
                finding.relate(
                    &topology.service(service).object.location,
                    "Service defined here",
                );
            }
            out.push(finding);
        }
    }
}
