//! What rules look at: the inventory, every container's resolved environment, and the
//! "sites" — each place where a NATS setting is written, with the workloads that consume
//! it. A value in a ConfigMap is one site however many workloads read it, so it is
//! reported once, at the ConfigMap line.
//!
//! This file owns the context and builds it: the environments, then the sites
//! (`sites.rs`) on one thread while the other builds the topology's indexes and finds
//! the broken refs. `documented.rs` tells the documented services' sites and their
//! runbook steps, `advice.rs` the address a finding suggests instead.

mod advice;
mod documented;
mod sites;

use advice::NatsService;
pub use advice::{Seen, MONITORING_PORT};
pub use documented::documented_client;

use crate::diagnostic::{InputError, ObjectRef};
use crate::lint::addresses::{self, NamedAddress};
use crate::lint::refs::{self, Reference};
use crate::lint::resolve::{self, ConfigIndex, ContainerEnv, Origin, Resolved};
use crate::lint::topology::Topology;
use crate::manifest::integrations::{Expectation, Integration, Resolver};
use crate::manifest::model::{Inventory, Platform, RefKind, RELEASE_NAMESPACE};
use crate::natsurl::{self, Entry, HostClass};
use rustc_hash::{FxHashMap, FxHashSet};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Settings of a lint run that change what rules conclude.
#[derive(Clone, Debug)]
pub struct LintOptions {
    /// `--namespace`: the namespace of objects that name none. `None` leaves them one
    /// group in a namespace the input does not name.
    pub default_namespace: Option<String>,
    pub cluster_domain: String,
    pub known_namespaces: Vec<String>,
    pub url_vars: Vec<String>,
    pub strict_refs: bool,
    /// `--nats-service NAMESPACE/NAME`: the Service that runs NATS, for the suggested
    /// fixes.
    pub nats_service: Option<(String, String)>,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            default_namespace: None,
            cluster_domain: "cluster.local".to_string(),
            known_namespaces: Vec::new(),
            url_vars: Vec::new(),
            strict_refs: false,
            nats_service: None,
        }
    }
}

/// The variables with a meaning of their own.
pub use crate::settings::{DEFAULT_PREFIX, ENABLED_VARIABLE, PREFIX_VARIABLE, URL_VARIABLE};

/// Inputs with fewer workloads are resolved on one thread: starting a second costs more
/// than it saves.
pub(crate) const PARALLEL_WORKLOADS: usize = 1024;

/// A container that reads a site's value.
#[derive(Clone, Copy, Debug)]
pub struct Consumer {
    pub workload: usize,
    pub container: usize,
}

/// The object a site's value is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// `Inventory::config_data[index]`: a ConfigMap or Secret key.
    Config(usize),
    /// A container's own `env`, a compose service or an env file.
    Container { workload: usize, container: usize },
    /// `Inventory::address_fields[index]`: a field of a custom resource.
    Field(usize),
}

/// One place where a NATS setting is written. Borrows its texts from the inventory.
#[derive(Clone, Debug)]
pub struct Site<'a> {
    pub text: Cow<'a, str>,
    pub origin: Origin<'a>,
    /// The namespace whose pods resolve the value (the ConfigMap's or workload's).
    pub namespace: &'a str,
    pub platform: Platform,
    pub owner: Owner,
    pub consumers: Vec<Consumer>,
    /// Written in a Secret, or read by a variable whose name says it is a secret
    /// (`crate::secret`): never show the source line or the value.
    pub hidden: bool,
}

/// A site holding a server URL list, parsed once.
#[derive(Clone, Debug)]
pub struct UrlSite<'a> {
    pub site: Site<'a>,
    pub entries: Vec<Entry>,
    /// What the value is expected to hold (a client URL list, a host, a monitoring
    /// endpoint): the URL rules judge it by this.
    pub expects: Expectation,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SiteKind {
    Url(Expectation),
    /// The port beside a `..._HOST` variable.
    Port,
    Enabled,
    Prefix,
}

pub struct Context<'a> {
    pub inventory: &'a Inventory,
    pub options: &'a LintOptions,
    /// Limits of the analysis that the input reached (the expansion budget), reported
    /// like the inputs that cannot be read.
    pub errors: Vec<InputError>,
    /// Limits that rules reached while they ran (see [`Context::limit_reached`]).
    limits: std::sync::Mutex<Vec<InputError>>,
    /// The `used by` lists of the sites that have findings, by site.
    used_by: std::sync::Mutex<FxHashMap<usize, Arc<[ObjectRef]>>>,
    pub known_namespaces: FxHashSet<String>,
    pub configs: ConfigIndex<'a>,
    pub envs: Vec<ContainerEnv<'a>>,
    /// Whether each workload (by index) has a container of the documented services;
    /// the policy rules ask it once per blocked client.
    documented: Vec<bool>,
    /// Whether each ConfigMap or Secret (by index into `Inventory::config_data`) holds
    /// the documented settings; asked once per site that has a finding.
    documented_configs: Vec<bool>,
    pub url_sites: Vec<UrlSite<'a>>,
    /// Ports written beside a host (`NATS_PORT`).
    pub port_sites: Vec<Site<'a>>,
    pub enabled_sites: Vec<Site<'a>>,
    pub prefix_sites: Vec<Site<'a>>,
    /// Services, policies and connections, built with the context.
    topology: std::sync::OnceLock<Topology<'a>>,
    /// The ConfigMap and Secret references that the input shows to be broken.
    broken_refs: Vec<Reference<'a>>,
    /// The Service to suggest per port (index into `Inventory::services`), built on
    /// first use.
    nats_services: std::sync::OnceLock<Vec<NatsService>>,
}

impl<'a> Context<'a> {
    pub fn new(inventory: &'a Inventory, options: &'a LintOptions) -> Self {
        let configs = ConfigIndex::new(inventory);
        let mut known_namespaces: FxHashSet<String> =
            inventory.object_namespaces.iter().cloned().collect();
        known_namespaces.extend(inventory.namespaces.iter().map(|ns| ns.name.to_string()));
        known_namespaces.extend(options.known_namespaces.iter().cloned());

        // Containers resolve independently: a large input is split in two halves, one
        // per thread, and joined in order. Each half has its share of the expansion
        // budget, so that where expansion stops does not depend on the threads' timing.
        let resolve_range = |workloads: std::ops::Range<usize>, budget: usize| {
            let mut budget = resolve::Budget::new(budget);
            let mut envs = Vec::new();
            let mut most_sites = sites::SiteCounts::default();
            for w in workloads {
                for c in 0..inventory.workloads[w].containers.len() {
                    let mut env = resolve::resolve(inventory, &configs, w, c, &mut budget);
                    // Rules read only NATS settings from here on, and of the other
                    // `NATS_` variables (credentials, timeouts) only their `$(VAR)`
                    // references; dropping the rest keeps the context small.
                    env.vars.retain(|var| {
                        let text = match &var.value {
                            Resolved::Known { text, .. } => text.as_ref(),
                            Resolved::Unknown => "",
                        };
                        let kind = site_kind(&options.url_vars, &var.name, text);
                        if let (Some(kind), Resolved::Known { .. }) = (kind, &var.value) {
                            most_sites.add(kind);
                        }
                        kind.is_some()
                            || addresses::by_name(&var.name, &options.url_vars).is_some()
                            || (var.name.starts_with("NATS_") && !var.undefined.is_empty())
                    });
                    // At their size: shrunk in place, a list keeps its block when it
                    // keeps half of it or more.
                    env.vars = crate::memory::exact(std::mem::take(&mut env.vars)).into_vec();
                    envs.push(env);
                }
            }
            (envs, budget.exhausted_at, most_sites)
        };
        let count = inventory.workloads.len();
        let budget = resolve::EXPANSION_BUDGET;
        let (envs, stops, most_sites) = if count < PARALLEL_WORKLOADS {
            let (envs, stop, most_sites) = resolve_range(0..count, budget);
            (envs, vec![stop], most_sites)
        } else {
            let ((mut envs, first_stop, mut most_sites), (rest, second_stop, rest_sites)) =
                rayon::join(
                    || resolve_range(0..count / 2, budget / 2),
                    || resolve_range(count / 2..count, budget / 2),
                );
            // The context keeps one per container: joined at their exact size, not in a
            // list doubled past it.
            envs.reserve_exact(rest.len());
            envs.extend(rest);
            envs.shrink_to_fit();
            most_sites.add_all(rest_sites);
            (envs, vec![first_stop, second_stop], most_sites)
        };
        let errors = stops
            .into_iter()
            .flatten()
            .map(|(location, name)| InputError {
                file: std::sync::Arc::clone(&location.file),
                line: Some(location.line),
                column: Some(location.column),
                message: format!(
                    "`$(VAR)` expansion stopped at `{name}`: this input's values expand to more than the {} MiB nats-doctor builds in one run; this value and later ones that need expanding are taken as unknown",
                    resolve::EXPANSION_BUDGET / (1024 * 1024)
                ),
            })
            .collect();

        debug_assert!(envs
            .windows(2)
            .all(|pair| (pair[0].workload, pair[0].container)
                < (pair[1].workload, pair[1].container)));
        let mut documented = vec![false; count];
        for env in &envs {
            if documented_client(env) {
                documented[env.workload] = true;
            }
        }
        let documented_configs = inventory
            .config_data
            .iter()
            .map(|data| {
                data.entries
                    .iter()
                    .any(|entry| entry.key == ENABLED_VARIABLE || entry.key == PREFIX_VARIABLE)
            })
            .collect();
        let mut context = Context {
            inventory,
            options,
            errors,
            limits: std::sync::Mutex::default(),
            used_by: std::sync::Mutex::default(),
            known_namespaces,
            configs,
            envs,
            documented,
            documented_configs,
            url_sites: Vec::new(),
            port_sites: Vec::new(),
            enabled_sites: Vec::new(),
            prefix_sites: Vec::new(),
            topology: std::sync::OnceLock::new(),
            broken_refs: Vec::new(),
            nats_services: std::sync::OnceLock::new(),
        };
        // While this thread collects the sites, the other builds the indexes of the
        // topology and finds the broken refs, which need only the facts: on a large input
        // collecting the sites is the longest piece of work no second thread shares, and
        // the rules that would build the topology or find the refs themselves then wait
        // for neither.
        let others = || (Topology::indexes(inventory), refs::broken(&context));
        let ((sites, stopped), (topology, broken_refs)) = if count < PARALLEL_WORKLOADS {
            (context.collect_sites(most_sites), others())
        } else {
            rayon::join(|| context.collect_sites(most_sites), others)
        };
        context.url_sites = sites.url_sites;
        context.port_sites = sites.port_sites;
        context.enabled_sites = sites.enabled_sites;
        context.prefix_sites = sites.prefix_sites;
        context.errors.extend(stopped);
        context.broken_refs = broken_refs;
        let topology = topology.with_clients(&context);
        context.topology.get_or_init(|| topology);
        context
    }

    fn kind_of(&self, name: &str, value: &str) -> Option<SiteKind> {
        site_kind(&self.options.url_vars, name, value)
    }

    /// Records that a rule stopped at a limit of its work, to be reported as an input
    /// error.
    pub fn limit_reached(&self, error: InputError) {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(error);
    }

    /// The limits the rules reached, in the order of the places they name.
    pub fn take_limits(&self) -> Vec<InputError> {
        let mut limits = std::mem::take(
            &mut *self
                .limits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        limits.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
        limits
    }

    /// The cluster as the input describes it.
    pub(crate) fn topology(&self) -> &Topology<'a> {
        self.topology
            .get_or_init(|| Topology::indexes(self.inventory).with_clients(self))
    }

    /// The ConfigMap and Secret references of the Kubernetes workloads that the input
    /// shows to be broken, found once for `ref-missing` and `ref-other-namespace`.
    pub(crate) fn broken_refs(&self) -> &[Reference<'a>] {
        &self.broken_refs
    }

    /// Whether a namespace is named anywhere in the input or on the command line.
    pub fn is_known_namespace(&self, namespace: &str) -> bool {
        self.known_namespaces.contains(namespace)
    }

    /// Classifies a URL host with the namespaces this input knows.
    /// A chart rendered without `--namespace` names its release namespace
    /// [`RELEASE_NAMESPACE`]: a URL that names it names the group's.
    pub fn classify<'h>(&self, host: &'h natsurl::Host) -> HostClass<'h> {
        let mut class = natsurl::classify_host(host, &|ns| {
            self.is_known_namespace(ns) || ns == RELEASE_NAMESPACE
        });
        if let HostClass::Namespaced { namespace, .. } | HostClass::ClusterFqdn { namespace, .. } =
            &mut class
        {
            if *namespace == RELEASE_NAMESPACE {
                *namespace = "";
            }
        }
        class
    }

    /// Whether a NATS client workload has messaging turned on (unset means on). `None`
    /// when the value is only known at run time.
    pub fn messaging_enabled(&self, env: &ContainerEnv) -> Option<bool> {
        match env.get(ENABLED_VARIABLE).map(|var| &var.value) {
            None => Some(true),
            Some(Resolved::Known { text, .. }) => Some(text.eq_ignore_ascii_case("true")),
            Some(Resolved::Unknown) => None,
        }
    }

    /// The workloads reading a site, for `used by`: worked out once per site and shared
    /// by its findings.
    pub fn consumers(&self, site: &Site) -> Arc<[ObjectRef]> {
        // Sites stay where they are once collected: the address names one.
        let key = std::ptr::from_ref(site) as usize;
        let mut lists = self
            .used_by
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        lists
            .entry(key)
            .or_insert_with(|| {
                let set: BTreeSet<ObjectRef> = site
                    .consumers
                    .iter()
                    .map(|c| self.inventory.workloads[c.workload].reference())
                    .collect();
                set.into_iter().collect()
            })
            .clone()
    }

    /// The custom resource field a site is, when it is one.
    pub fn field(&self, site: &Site) -> Option<&'a crate::manifest::model::AddressField> {
        match site.owner {
            Owner::Field(index) => Some(&self.inventory.address_fields[index]),
            _ => None,
        }
    }

    /// The resolved environment of one container. `envs` is in the order of workloads
    /// and their containers, so it is found by bisection: sites with twenty thousand
    /// readers ask it once per reader.
    pub fn env_of(&self, workload: usize, container: usize) -> Option<&ContainerEnv<'a>> {
        self.envs
            .binary_search_by_key(&(workload, container), |env| (env.workload, env.container))
            .ok()
            .map(|at| &self.envs[at])
    }

    /// The integration whose field a site is, when it is one.
    pub fn integration(&self, site: &Site) -> Option<&'static Integration> {
        self.field(site).map(|field| field.integration)
    }

    /// Whether a short Service name in the site resolves in the site's namespace (it
    /// does not in a field a controller reads from a namespace of its own).
    pub fn resolves_short_names(&self, site: &Site) -> bool {
        self.integration(site)
            .is_none_or(|integration| integration.resolver == Resolver::ObjectNamespace)
    }

    /// Ports not written in a value, as the reader fills them in: a monitoring endpoint
    /// dials 80 (443 for https), a host variable the port written beside it.
    fn default_ports(&self, site: &Site, expects: Expectation, entries: &mut [Entry]) {
        let port = match expects {
            Expectation::Host => self.port_beside(site),
            _ => None,
        };
        for entry in entries {
            let Entry::Server(server) = entry else {
                continue;
            };
            if !matches!(server.port, natsurl::Port::Default(_)) {
                continue;
            }
            if expects.monitoring() {
                let https =
                    matches!(&server.scheme, natsurl::SchemeSpec::Unsupported(s) if s == "https");
                server.port = natsurl::Port::Default(if https { 443 } else { 80 });
            } else if let Some(port) = port {
                server.port = natsurl::Port::Default(port);
            }
        }
    }

    /// The port written beside a host variable (`NATS_PORT` beside `NATS_HOST`): in the
    /// same ConfigMap, or in the container's environment.
    fn port_beside(&self, site: &Site) -> Option<u16> {
        let name = addresses::port_variable(site.origin.key)?;
        let text = match site.owner {
            Owner::Config(index) => self.inventory.config_data[index]
                .get(&name)?
                .value
                .as_ref()?
                .text
                .to_string(),
            Owner::Container {
                workload,
                container,
            } => {
                let env = self.env_of(workload, container)?;
                match &env.get(&name)?.value {
                    Resolved::Known { text, .. } => text.to_string(),
                    Resolved::Unknown => return None,
                }
            }
            Owner::Field(_) => return None,
        };
        text.parse::<u16>().ok().filter(|port| *port > 0)
    }
}

impl<'a> Context<'a> {
    /// Every parsed server of every URL site.
    pub fn servers(&self) -> impl Iterator<Item = (&UrlSite<'a>, &natsurl::ServerUrl)> {
        self.url_sites.iter().flat_map(|url_site| {
            url_site
                .entries
                .iter()
                .filter_map(move |entry| match entry {
                    Entry::Server(server) => Some((url_site, server)),
                    Entry::Invalid { .. } => None,
                })
        })
    }

    /// The namespace of the Kubernetes pods that read a site, for [`Context::suggested_url`].
    pub fn pods_namespace<'s>(&self, site: &'s Site) -> Option<&'s str> {
        (site.platform == Platform::Kubernetes).then_some(site.namespace)
    }

    /// Text from a site as it may be printed: nothing of a secret value is shown.
    pub fn shown<'s>(&self, site: &Site, text: &'s str) -> std::borrow::Cow<'s, str> {
        if site.hidden {
            std::borrow::Cow::Borrowed("(hidden: secret value)")
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }

    /// Whether a site's value is written in a Secret (not merely hidden).
    pub fn in_secret(&self, site: &Site) -> bool {
        site.origin
            .config()
            .is_some_and(|index| self.inventory.config_data[index].kind == RefKind::Secret)
    }
}

/// What a variable holds, judged by its name and, for URLs, by its value's scheme.
fn site_kind(url_vars: &[String], name: &str, value: &str) -> Option<SiteKind> {
    match name {
        ENABLED_VARIABLE => return Some(SiteKind::Enabled),
        PREFIX_VARIABLE => return Some(SiteKind::Prefix),
        _ => {}
    }
    match addresses::by_name(name, url_vars) {
        // An empty value of a name only apps of other projects read is a default left
        // unset, not a server list.
        Some(_)
            if value.is_empty() && name != URL_VARIABLE && !url_vars.iter().any(|v| v == name) =>
        {
            return None
        }
        Some(NamedAddress::Address(expects)) => return Some(SiteKind::Url(expects)),
        Some(NamedAddress::Port) => return Some(SiteKind::Port),
        None => {}
    }
    // Stray quotes or spaces before the scheme are a mistake worth reporting too.
    let value = value.trim_start_matches(['"', '\'', ' ']).as_bytes();
    let starts = |scheme: &str| {
        value
            .get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme.as_bytes()))
    };
    let nats_scheme = starts("nats:/") || starts("tls://");
    // ws:// and wss:// are shared with every other WebSocket API; only a variable
    // named for NATS is taken to hold a NATS server.
    let websocket = (starts("ws://") || starts("wss://")) && addresses::mentions_nats(name);
    (nats_scheme || websocket).then_some(SiteKind::Url(Expectation::Servers {
        scheme_optional: false,
    }))
}
