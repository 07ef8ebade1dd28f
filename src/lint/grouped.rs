//! Positions of inventory items grouped by a key, for lookups by equality.
//!
//! One list of keys sorted by their hash and one list of positions, instead of a hash
//! map holding a vector per key: on an input of 60,000 objects most keys (a Service
//! name, a pod label) have a single item, and a vector per key costs more than the item
//! it holds. A lookup searches the hashes, eight bytes each side by side, and compares
//! only the keys of its own hash. Sorted by the keys themselves, each step of the search
//! compared strings lying all over the facts: on the shared benchmark corpus the
//! policy rules spent a microsecond per client in these searches.

use rustc_hash::FxHasher;
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Items (positions into an inventory list) grouped by key. Built once, read-only.
#[derive(Debug)]
pub(crate) struct Grouped<K> {
    /// The hash of each key in `keys`, in increasing order.
    hashes: Vec<u64>,
    /// Each key with the end of its group in `positions`, in the order of `hashes`.
    keys: Vec<(K, usize)>,
    positions: Vec<usize>,
}

impl<K> Default for Grouped<K> {
    fn default() -> Self {
        Grouped {
            hashes: Vec::new(),
            keys: Vec::new(),
            positions: Vec::new(),
        }
    }
}

fn hash_of<Q: Hash + ?Sized>(key: &Q) -> u64 {
    let mut hasher = FxHasher::default();
    key.hash(&mut hasher);
    hasher.finish()
}

impl<K: Ord + Hash> Grouped<K> {
    /// Groups `(key, position)` pairs. Within a key, positions come out in increasing
    /// order, whatever the order of the pairs.
    pub(crate) fn new(pairs: Vec<(K, usize)>) -> Self {
        let mut keyed: Vec<(u64, K, usize)> = pairs
            .into_iter()
            .map(|(key, position)| (hash_of(&key), key, position))
            .collect();
        keyed.sort_unstable();
        let mut positions = Vec::with_capacity(keyed.len());
        // Each key is written once, with the end of its group, over the pairs already
        // read: the index takes no list of keys besides the pairs' own while it is
        // built (on a large input a list of 20,000 keys would be as large again while
        // it grows), and the lists it keeps are made at their size.
        let mut written = 0;
        for read in 0..keyed.len() {
            positions.push(keyed[read].2);
            if written > 0 && keyed[written - 1].1 == keyed[read].1 {
                keyed[written - 1].2 = positions.len();
            } else {
                keyed.swap(written, read);
                keyed[written].2 = positions.len();
                written += 1;
            }
        }
        keyed.truncate(written);
        let hashes = keyed.iter().map(|(hash, ..)| *hash).collect();
        // Not collected in place: that would keep the room of every pair for the keys.
        let mut keys = Vec::with_capacity(written);
        keys.extend(keyed.into_iter().map(|(_, key, end)| (key, end)));
        Grouped {
            hashes,
            keys,
            positions,
        }
    }

    /// Groups every item of `items` by `key`.
    pub(crate) fn by<'i, T>(items: &'i [T], key: impl Fn(&'i T) -> K) -> Self {
        Grouped::new(items.iter().map(key).zip(0..).collect())
    }

    /// The positions under `key`, in increasing order; empty when there are none.
    pub(crate) fn get(&self, key: &K) -> &[usize] {
        self.lookup(hash_of(key), |k| k.cmp(key))
    }

    /// The positions under a key given in its borrowed form (`str` for a `&str` key),
    /// for a key borrowed for a shorter time than the index.
    pub(crate) fn find<Q: Hash + Ord + ?Sized>(&self, key: &Q) -> &[usize]
    where
        K: Borrow<Q>,
    {
        // `Borrow` promises the same hash and the same order for a key and its
        // borrowed form.
        self.lookup(hash_of(key), |k| k.borrow().cmp(key))
    }

    /// The keys of one hash are in the order of the keys, and searched in it too: an
    /// input whose names were chosen to share a hash costs a lookup no more than a
    /// binary search of the keys, as when they were sorted by key alone.
    fn lookup(&self, hash: u64, compare: impl Fn(&K) -> std::cmp::Ordering) -> &[usize] {
        let first = self.hashes.partition_point(|&h| h < hash);
        let end = first + self.hashes[first..].partition_point(|&h| h == hash);
        match self.keys[first..end].binary_search_by(|(k, _)| compare(k)) {
            Ok(offset) => {
                let at = first + offset;
                let start = at.checked_sub(1).map_or(0, |before| self.keys[before].1);
                &self.positions[start..self.keys[at].1]
            }
            Err(_) => &[],
        }
    }

    pub(crate) fn contains_key(&self, key: &K) -> bool {
        !self.get(key).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_positions_by_key_in_increasing_order() {
        let grouped = Grouped::new(vec![("b", 4), ("a", 2), ("b", 1), ("c", 0), ("b", 3)]);
        assert_eq!(grouped.get(&"a"), [2]);
        assert_eq!(grouped.get(&"b"), [1, 3, 4]);
        assert_eq!(grouped.get(&"c"), [0]);
        assert!(grouped.get(&"d").is_empty());
        assert!(grouped.contains_key(&"c"));
        assert!(!grouped.contains_key(&"0"));
        assert_eq!(grouped.find("b"), [1, 3, 4]);
        let by_length = Grouped::by(&["ab", "c", "de"], |text| text.len());
        assert_eq!(by_length.get(&2), [0, 2]);
        assert!(Grouped::<&str>::new(Vec::new()).get(&"a").is_empty());
    }

    /// Keys that share a hash are told apart by the keys themselves.
    #[test]
    fn keys_of_one_hash_are_compared() {
        #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
        struct Colliding(&'static str);
        impl Hash for Colliding {
            fn hash<H: Hasher>(&self, _: &mut H) {}
        }
        let grouped = Grouped::new(vec![
            (Colliding("b"), 1),
            (Colliding("a"), 0),
            (Colliding("b"), 2),
            (Colliding("c"), 3),
        ]);
        assert_eq!(grouped.get(&Colliding("a")), [0]);
        assert_eq!(grouped.get(&Colliding("b")), [1, 2]);
        assert_eq!(grouped.get(&Colliding("c")), [3]);
        assert!(grouped.get(&Colliding("d")).is_empty());
    }
}
