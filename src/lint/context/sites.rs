//! The lists of NATS settings by kind while the lint context collects them: each site
//! goes straight into the list of its kind.

use super::{Site, SiteKind, UrlSite};

/// The sites of each kind while they are collected.
#[derive(Default)]
pub(super) struct Sites<'a> {
    pub(super) url_sites: Vec<UrlSite<'a>>,
    pub(super) port_sites: Vec<Site<'a>>,
    pub(super) enabled_sites: Vec<Site<'a>>,
    pub(super) prefix_sites: Vec<Site<'a>>,
}

impl<'a> Sites<'a> {
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
