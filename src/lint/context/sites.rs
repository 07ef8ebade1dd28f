//! Collecting the sites: every place where the input writes a NATS setting, once
//! however many containers read it, in the list of its kind, with the servers of each
//! URL parsed.

use super::{Consumer, Context, Owner, Site, SiteKind, UrlSite};
use crate::diagnostic::{FileName, InputError, Location};
use crate::lint::resolve::{self, Origin, Resolved};
use crate::manifest::model::{Platform, RefKind};
use crate::natsurl;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::Arc;

/// The servers parsed in one run: this many, and [`SERVERS_PER_SITE`] more for every
/// value that holds URLs. A real input lists one to three servers per value; a parsed
/// server takes some 150 bytes, 75 times the two bytes of text (`a,`) a hostile list
/// needs for one, and a value may list up to [`natsurl::MAX_SERVERS`]. Past the budget
/// the values' servers are not parsed, and an input error says where that began.
const SERVER_BUDGET: usize = 65_536;
const SERVERS_PER_SITE: usize = 8;

/// The input error at the first value whose servers the run's budget leaves unparsed.
fn servers_stopped_at(site: &Site, budget: usize) -> InputError {
    let location = site.origin.location;
    InputError {
        file: Arc::clone(&location.file),
        line: Some(location.line),
        column: Some(location.column),
        message: format!(
            "servers not checked from `{}` on: the input's URL values list more than {budget} servers in all, the most nats-doctor parses for them",
            site.origin.key
        ),
    }
}

impl<'a> Context<'a> {
    /// Every NATS setting of the input as a site of its kind, with the servers of each
    /// URL site parsed, and the input error where the run's budget of servers ran out.
    ///
    /// `most` is how many sites of each kind the containers' variables can make: the
    /// lists and the map of places are made that large at once.
    pub(super) fn collect_sites(&self, most: SiteCounts) -> (Sites<'a>, Option<InputError>) {
        let inventory = self.inventory;
        // Each site goes straight into the list of its kind (URL sites with their servers
        // parsed afterwards), found again by where its value is written: a list of all
        // sites before the split would be as large again as the lists themselves.
        let mut sites = Sites::with_capacity(most);
        let mut places = Places::with_capacity(most.total());
        for env in &self.envs {
            let workload = &inventory.workloads[env.workload];
            for var in &env.vars {
                let Resolved::Known { text, origin } = &var.value else {
                    continue;
                };
                let Some(kind) = self.kind_of(&var.name, text) else {
                    continue;
                };
                let consumer = Consumer {
                    workload: env.workload,
                    container: env.container,
                };
                let place = places.place(origin.location, kind);
                if let Some(at) = places.get(&place) {
                    let site = sites.get_mut(kind, at);
                    site.consumers.push(consumer);
                    if !site.hidden {
                        site.hidden = crate::secret::is_secret_name(&var.name);
                    }
                    continue;
                }
                let secret_name = crate::secret::is_secret_name(&var.name)
                    || crate::secret::is_secret_name(origin.key);
                let site = match origin.config() {
                    Some(config) => {
                        let data = &inventory.config_data[config];
                        Site {
                            text: text.clone(),
                            origin: *origin,
                            namespace: &data.object.namespace,
                            platform: Platform::Kubernetes,
                            owner: Owner::Config(config),
                            consumers: vec![consumer],
                            hidden: data.kind == RefKind::Secret || secret_name,
                        }
                    }
                    None => Site {
                        text: text.clone(),
                        origin: *origin,
                        namespace: &workload.object.namespace,
                        platform: workload.platform,
                        owner: Owner::Container {
                            workload: env.workload,
                            container: env.container,
                        },
                        consumers: vec![consumer],
                        hidden: secret_name,
                    },
                };
                places.insert(place, sites.push(kind, site));
            }
        }
        // Settings in ConfigMaps and Secrets that no workload in the input reads.
        for (index, data) in inventory.config_data.iter().enumerate() {
            for entry in &data.entries {
                let Some(value) = &entry.value else { continue };
                if value.not_scalar {
                    continue;
                }
                let Some(kind) = self.kind_of(&entry.key, &value.text) else {
                    continue;
                };
                let place = places.place(&value.location, kind);
                if places.get(&place).is_some() {
                    continue;
                }
                let at = sites.push(
                    kind,
                    Site {
                        text: Cow::Borrowed(&value.text),
                        origin: Origin {
                            location: &value.location,
                            width: value.width,
                            config_index: resolve::config_index(index),
                            key: &entry.key,
                        },
                        namespace: &data.object.namespace,
                        platform: Platform::Kubernetes,
                        owner: Owner::Config(index),
                        consumers: Vec::new(),
                        hidden: data.kind == RefKind::Secret
                            || crate::secret::is_secret_name(&entry.key),
                    },
                );
                places.insert(place, at);
            }
        }
        // The address fields of custom resources, with what their integration expects.
        for (index, field) in inventory.address_fields.iter().enumerate() {
            let value = &field.value;
            // A value filled in later (Dapr's `{namespace}`, `$(VAR)`, `${VAR}`) is not
            // what the reader dials.
            if value.not_scalar || value.text.contains(['{', '$']) {
                continue;
            }
            sites.push(
                SiteKind::Url(field.integration.expects),
                Site {
                    text: Cow::Borrowed(&value.text),
                    origin: Origin {
                        location: &value.location,
                        width: value.width,
                        config_index: None,
                        key: &field.path,
                    },
                    namespace: &field.object.namespace,
                    platform: Platform::Kubernetes,
                    owner: Owner::Field(index),
                    consumers: Vec::new(),
                    hidden: false,
                },
            );
        }
        drop(places);
        let Sites {
            mut url_sites,
            mut port_sites,
            mut enabled_sites,
            mut prefix_sites,
        } = sites;
        for list in [&mut port_sites, &mut enabled_sites, &mut prefix_sites] {
            list.shrink_to_fit();
            for site in list.iter_mut() {
                site.consumers.shrink_to_fit();
            }
        }
        url_sites.shrink_to_fit();
        let budget = SERVER_BUDGET + SERVERS_PER_SITE * url_sites.len();
        let stopped = self.parse_servers(&mut url_sites, budget);
        let sites = Sites {
            url_sites,
            port_sites,
            enabled_sites,
            prefix_sites,
        };
        (sites, stopped)
    }
}

impl Context<'_> {
    /// Parses the servers of each URL site, in order, while `budget` servers are left:
    /// the sites after are left without servers, and the input error says where that
    /// began.
    ///
    /// A large input's sites are parsed on both threads (on the shared benchmark corpus
    /// the other thread is idle by then), in runs that the budget is sure to cover: a
    /// value of `n` bytes holds at most `n + 1` servers (commas between empty entries),
    /// and at most [`natsurl::MAX_SERVERS`] and one entry for the rest. So each run is
    /// parsed whole, as the sites would be one after the other, and the budget bounds
    /// what a run holds as it bounds one site at a time.
    fn parse_servers(&self, url_sites: &mut [UrlSite<'_>], budget: usize) -> Option<InputError> {
        let parallel = self.envs.len() >= super::PARALLEL_WORKLOADS;
        let parse = |url_site: &mut UrlSite<'_>| {
            url_site.site.consumers.shrink_to_fit();
            let mut entries = natsurl::parse_server_list(&url_site.site.text);
            self.default_ports(&url_site.site, url_site.expects, &mut entries);
            url_site.entries = entries;
        };
        let most =
            |url_site: &UrlSite<'_>| (url_site.site.text.len() + 1).min(natsurl::MAX_SERVERS + 1);
        let mut left = budget;
        let mut start = 0;
        while start < url_sites.len() {
            if left == 0 {
                for url_site in &mut url_sites[start..] {
                    url_site.site.consumers.shrink_to_fit();
                }
                return Some(servers_stopped_at(&url_sites[start].site, budget));
            }
            // The longest run the budget covers, and at least the next site: a site is
            // parsed whenever some budget is left.
            let mut end = start + 1;
            let mut covered = most(&url_sites[start]);
            while let Some(next) = url_sites.get(end) {
                covered += most(next);
                if covered >= left {
                    break;
                }
                end += 1;
            }
            let run = &mut url_sites[start..end];
            if parallel {
                run.par_iter_mut().for_each(parse);
            } else {
                run.iter_mut().for_each(parse);
            }
            for url_site in run.iter() {
                left = left.saturating_sub(url_site.entries.len());
            }
            start = end;
        }
        None
    }
}

/// How many sites of each kind there are, or can be at most.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SiteCounts {
    url: usize,
    port: usize,
    enabled: usize,
    prefix: usize,
}

impl SiteCounts {
    pub(super) fn add(&mut self, kind: SiteKind) {
        *match kind {
            SiteKind::Url(_) => &mut self.url,
            SiteKind::Port => &mut self.port,
            SiteKind::Enabled => &mut self.enabled,
            SiteKind::Prefix => &mut self.prefix,
        } += 1;
    }

    pub(super) fn add_all(&mut self, other: SiteCounts) {
        self.url += other.url;
        self.port += other.port;
        self.enabled += other.enabled;
        self.prefix += other.prefix;
    }

    fn total(self) -> usize {
        self.url + self.port + self.enabled + self.prefix
    }
}

/// The sites of each kind.
#[derive(Default)]
pub(super) struct Sites<'a> {
    pub(super) url_sites: Vec<UrlSite<'a>>,
    pub(super) port_sites: Vec<Site<'a>>,
    pub(super) enabled_sites: Vec<Site<'a>>,
    pub(super) prefix_sites: Vec<Site<'a>>,
}

impl<'a> Sites<'a> {
    /// Lists with room for `most` sites. Grown past it to their double, the lists of the
    /// shared benchmark corpus's 60,000 sites took 5 MB more than they held, at the
    /// moment the context is largest.
    fn with_capacity(most: SiteCounts) -> Self {
        Sites {
            url_sites: Vec::with_capacity(most.url),
            port_sites: Vec::with_capacity(most.port),
            enabled_sites: Vec::with_capacity(most.enabled),
            prefix_sites: Vec::with_capacity(most.prefix),
        }
    }

    /// Adds a site to the list of its kind; its position there.
    pub(super) fn push(&mut self, kind: SiteKind, site: Site<'a>) -> usize {
        let list = match kind {
            SiteKind::Url(expects) => {
                self.url_sites.push(UrlSite {
                    site,
                    entries: Vec::new(),
                    expects,
                });
                return self.url_sites.len() - 1;
            }
            SiteKind::Port => &mut self.port_sites,
            SiteKind::Enabled => &mut self.enabled_sites,
            SiteKind::Prefix => &mut self.prefix_sites,
        };
        list.push(site);
        list.len() - 1
    }

    pub(super) fn get_mut(&mut self, kind: SiteKind, at: usize) -> &mut Site<'a> {
        match kind {
            SiteKind::Url(_) => &mut self.url_sites[at].site,
            SiteKind::Port => &mut self.port_sites[at],
            SiteKind::Enabled => &mut self.enabled_sites[at],
            SiteKind::Prefix => &mut self.prefix_sites[at],
        }
    }
}

/// A place where a value is written, and the kind of site it makes there: the same place
/// read by many containers (a ConfigMap key) is one site.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Place {
    file: u32,
    line: u32,
    column: u32,
    kind: SiteKind,
}

/// The sites collected so far by their place. Files are numbered by name, so that a
/// place is a few numbers to hash and compare rather than a file name: keyed by
/// `Location`, hashing and comparing the names took a fifth of the context's time on
/// the shared benchmark corpus (35 ms for its sites of containers, now 24 ms). Two locations with the same name, line and column are the same place, as
/// `Location`'s equality has it, even when their names are separate copies (an env file
/// read for two compose services).
#[derive(Default)]
pub(super) struct Places<'a> {
    /// The position of each site in the list of its kind.
    sites: FxHashMap<Place, u32>,
    files: FxHashMap<&'a str, u32>,
    /// The number of each file name as allocated, found without hashing the name; the
    /// last one apart, as consecutive places are mostly in one file.
    by_allocation: FxHashMap<usize, u32>,
    last: Option<(usize, u32)>,
}

impl<'a> Places<'a> {
    fn with_capacity(places: usize) -> Self {
        Places {
            sites: FxHashMap::with_capacity_and_hasher(places, Default::default()),
            ..Places::default()
        }
    }

    pub(super) fn place(&mut self, location: &'a Location, kind: SiteKind) -> Place {
        Place {
            file: self.file(&location.file),
            line: location.line,
            column: location.column,
            kind,
        }
    }

    fn file(&mut self, file: &'a FileName) -> u32 {
        let allocation = Arc::as_ptr(file).cast::<u8>() as usize;
        if let Some((last, number)) = self.last {
            if last == allocation {
                return number;
            }
        }
        let number = match self.by_allocation.get(&allocation) {
            Some(&number) => number,
            None => {
                // 32 bits: an input of 4 billion files cannot be read.
                let next = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
                let number = *self.files.entry(&**file).or_insert(next);
                self.by_allocation.insert(allocation, number);
                number
            }
        };
        self.last = Some((allocation, number));
        number
    }

    pub(super) fn get(&self, place: &Place) -> Option<usize> {
        self.sites.get(place).map(|&at| at as usize)
    }

    pub(super) fn insert(&mut self, place: Place, at: usize) {
        // 32 bits: the sites of one kind are fewer than the values of the input, which
        // cannot hold 4 billion.
        self.sites
            .insert(place, u32::try_from(at).unwrap_or(u32::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::context::Expectation;

    #[test]
    fn a_place_is_its_file_name_line_and_column() {
        let at = |file: &str, line, column| Location::new(&FileName::from(file), line, column);
        let (a, copy_of_a, b, c) = (
            at("a.env", 3, 1),
            at("a.env", 3, 1),
            at("b.env", 3, 1),
            at("a.env", 3, 2),
        );
        let url = SiteKind::Url(Expectation::Servers {
            scheme_optional: false,
        });
        let mut places = Places::default();
        let place = places.place(&a, url);
        places.insert(place, 7);
        let mut found = |location, kind| {
            let place = places.place(location, kind);
            places.get(&place)
        };
        assert_eq!(found(&copy_of_a, url), Some(7));
        assert_eq!(found(&b, url), None);
        assert_eq!(found(&c, url), None);
        assert_eq!(found(&a, SiteKind::Port), None);
    }
}
