//! The lists of NATS settings by kind while the lint context collects them: each site
//! goes straight into the list of its kind.

use super::{Site, SiteKind, UrlSite};
use crate::diagnostic::{FileName, Location};
use rustc_hash::FxHashMap;
use std::sync::Arc;

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
    sites: FxHashMap<Place, usize>,
    files: FxHashMap<&'a str, u32>,
    /// The number of each file name as allocated, found without hashing the name; the
    /// last one apart, as consecutive places are mostly in one file.
    by_allocation: FxHashMap<usize, u32>,
    last: Option<(usize, u32)>,
}

impl<'a> Places<'a> {
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
        self.sites.get(place).copied()
    }

    pub(super) fn insert(&mut self, place: Place, at: usize) {
        self.sites.insert(place, at);
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
