//! Positions of inventory items grouped by a key, for lookups by equality.
//!
//! One sorted list of keys and one list of positions, instead of a hash map holding a
//! vector per key: on an input of 60,000 objects most keys (a Service name, a pod label)
//! have a single item, and a vector per key costs more than the item it holds.

/// Items (positions into an inventory list) grouped by key. Built once, read-only.
#[derive(Debug)]
pub(crate) struct Grouped<K> {
    /// Each key with the end of its group in `positions`, sorted by key.
    keys: Vec<(K, usize)>,
    positions: Vec<usize>,
}

impl<K> Default for Grouped<K> {
    fn default() -> Self {
        Grouped {
            keys: Vec::new(),
            positions: Vec::new(),
        }
    }
}

impl<K: Ord> Grouped<K> {
    /// Groups `(key, position)` pairs. Within a key, positions come out in increasing
    /// order, whatever the order of the pairs.
    pub(crate) fn new(pairs: Vec<(K, usize)>) -> Self {
        let mut keys = pairs;
        keys.sort_unstable();
        let mut positions = Vec::with_capacity(keys.len());
        // Each key is written once, with the end of its group, over the pairs already
        // read: the index takes no list of keys besides the pairs' own (on a large
        // input a list of 20,000 keys would be as large again while it grows).
        let mut written = 0;
        for read in 0..keys.len() {
            positions.push(keys[read].1);
            if written > 0 && keys[written - 1].0 == keys[read].0 {
                keys[written - 1].1 = positions.len();
            } else {
                keys.swap(written, read);
                keys[written].1 = positions.len();
                written += 1;
            }
        }
        keys.truncate(written);
        keys.shrink_to_fit();
        Grouped { keys, positions }
    }

    /// Groups every item of `items` by `key`.
    pub(crate) fn by<'i, T>(items: &'i [T], key: impl Fn(&'i T) -> K) -> Self {
        Grouped::new(items.iter().map(key).zip(0..).collect())
    }

    /// The positions under `key`, in increasing order; empty when there are none.
    pub(crate) fn get(&self, key: &K) -> &[usize] {
        self.find(|k| k.cmp(key))
    }

    /// The positions under the key that `compare` finds equal, for a key borrowed for a
    /// shorter time than the index.
    pub(crate) fn find(&self, compare: impl Fn(&K) -> std::cmp::Ordering) -> &[usize] {
        match self.keys.binary_search_by(|(k, _)| compare(k)) {
            Ok(at) => {
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
        assert_eq!(grouped.find(|k| k.cmp(&"b")), [1, 3, 4]);
        let by_length = Grouped::by(&["ab", "c", "de"], |text| text.len());
        assert_eq!(by_length.get(&2), [0, 2]);
        assert!(Grouped::<&str>::new(Vec::new()).get(&"a").is_empty());
    }
}
