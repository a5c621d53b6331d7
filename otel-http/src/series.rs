//! [`SeriesCache`]: per-attribute-set handles (bound instruments) kept in a
//! bounded map keyed by the few facts the attributes are made of.
//!
//! The SDK resolves a measurement's attribute list to its series by hashing
//! and comparing every key and value, at every measurement; for an HTTP
//! request that is the largest part of what its metrics cost. An
//! instrumentation binds each attribute set once (`Histogram::bind` and
//! friends, OpenTelemetry's `experimental_metrics_bound_instruments`) and
//! finds the bound handle again by a cheap hash of the small key it was built
//! from (method, route, status: `&'static str`s and integers).

use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A map from a series' key to its bound handles, holding at most
/// `capacity` entries; past that, [`with`](Self::with) returns `None` and the
/// caller records with the attribute list (the SDK still applies its own
/// cardinality limit); threads adding keys at once may take it a few past.
///
/// Entries are only ever added, each in a slot of a table twice the
/// capacity (24 bytes a slot, about 12 KB for 256 series, allocated with
/// the cache) that is written once: a lookup reads shared memory and writes
/// none. The workers of a multi-threaded runtime look the same series up on
/// every request, and a lock's count (a read lock writes it too) moved
/// between their cores on each of those lookups.
///
/// ```
/// use otel_http::series::SeriesCache;
/// // The handle would be a `BoundHistogram<f64>`; a counter stands in here.
/// let cache: SeriesCache<(&'static str, u16), std::sync::atomic::AtomicU64> = SeriesCache::new(2);
/// let record = |key| cache.with(key, Default::default, |n| n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
/// assert_eq!(record(("GET", 200)), Some(0));
/// assert_eq!(record(("GET", 200)), Some(1)); // the same handle
/// assert_eq!(record(("GET", 404)), Some(0));
/// assert_eq!(record(("GET", 500)), None); // full: the caller records unbound
/// assert_eq!(cache.len(), 2);
/// ```
pub struct SeriesCache<K, V> {
    /// Open addressing, linear probing; a slot is set once and never
    /// cleared, so a lookup ends at the first empty slot. The key's hash is
    /// kept beside the entry, so most mismatches cost no key comparison.
    slots: Box<[Slot<K, V>]>,
    len: AtomicUsize,
    capacity: usize,
}

/// One entry of the table, once set: the key's hash, the key and its handle.
type Slot<K, V> = OnceLock<(u64, Box<(K, V)>)>;

impl<K: Hash + Eq, V> std::fmt::Debug for SeriesCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl<K: Hash + Eq, V> SeriesCache<K, V> {
    /// An empty cache that holds at most `capacity` series.
    ///
    /// ```
    /// let cache = otel_http::series::SeriesCache::<u16, ()>::new(256);
    /// assert_eq!(cache.len(), 0);
    /// ```
    pub fn new(capacity: usize) -> Self {
        // At most half full, so that probes stay short and one always ends.
        let slots = (capacity.max(1) * 2).next_power_of_two();
        Self {
            slots: (0..slots).map(|_| OnceLock::new()).collect(),
            len: AtomicUsize::new(0),
            capacity,
        }
    }

    /// Calls `use_handle` with the handle of `key`, binding it with `bind`
    /// the first time; `None` when the cache is full and `key` is not in it.
    ///
    /// ```
    /// let cache = otel_http::series::SeriesCache::new(8);
    /// assert_eq!(cache.with("GET", || 7, |v| *v * 2), Some(14));
    /// assert_eq!(cache.with("GET", || unreachable!(), |v| *v), Some(7));
    /// ```
    pub fn with<R>(
        &self,
        key: K,
        bind: impl FnOnce() -> V,
        use_handle: impl FnOnce(&V) -> R,
    ) -> Option<R>
    where
        K: Clone,
    {
        // The key is copied only for a new entry, which the lookup borrowed.
        self.with_borrowed(&key, || Some((key.clone(), bind())), use_handle)
    }

    /// As [`with`](Self::with), looked up by a borrowed form of the key (a
    /// `&str` for a `Box<str>` key), so that a hit allocates nothing: the
    /// owned key and its handle are made by `insert` only for a new entry,
    /// which may also decline (`None`: nothing is stored). Threads that add
    /// the same new key at once may each make it; one entry is kept, and
    /// every one of them is handed that entry.
    ///
    /// ```
    /// let cache = otel_http::series::SeriesCache::<Box<str>, usize>::new(8);
    /// let length = |name: &str| {
    ///     cache.with_borrowed(name, || Some((name.into(), name.len())), |n| *n)
    /// };
    /// assert_eq!(length("shop.Payment/Charge"), Some(19));
    /// assert_eq!(length("shop.Payment/Charge"), Some(19)); // found, not made
    /// assert_eq!(cache.len(), 1);
    /// ```
    pub fn with_borrowed<Q, R>(
        &self,
        key: &Q,
        insert: impl FnOnce() -> Option<(K, V)>,
        use_handle: impl FnOnce(&V) -> R,
    ) -> Option<R>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = BuildHasherDefault::<Folded>::default().hash_one(key);
        let mask = self.slots.len() - 1;
        let mut insert = Some(insert);
        let mut made = None;
        // Every slot at most once: the table cannot fill (see `new`), but a
        // lookup must end whatever happens.
        for probe in 0..self.slots.len() {
            let slot = &self.slots[(hash as usize).wrapping_add(probe) & mask];
            let (slot_hash, entry) = match slot.get() {
                Some(set) => set,
                // Full; but another thread may just have added a key here
                // (this one, perhaps).
                None if made.is_none() && self.len.load(Ordering::Relaxed) >= self.capacity => {
                    slot.get()?
                }
                None => {
                    let new = match made.take() {
                        Some(new) => new,
                        None => Box::new(insert.take()?()?),
                    };
                    match slot.set((hash, new)) {
                        Ok(()) => {
                            self.len.fetch_add(1, Ordering::Relaxed);
                            let (_, entry) = slot.get()?;
                            return Some(use_handle(&entry.1));
                        }
                        // Another thread set this slot first: look at what
                        // it holds, and keep ours for the next empty one.
                        Err((_, ours)) => {
                            made = Some(ours);
                            slot.get()?
                        }
                    }
                }
            };
            if *slot_hash == hash && entry.0.borrow() == key {
                return Some(use_handle(&entry.1));
            }
        }
        None
    }

    /// The number of series held.
    ///
    /// ```
    /// let cache = otel_http::series::SeriesCache::new(8);
    /// cache.with(1u8, || (), |_| ());
    /// assert_eq!(cache.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether no series is held.
    ///
    /// ```
    /// assert!(otel_http::series::SeriesCache::<u8, ()>::new(8).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A hash of eight bytes per step (a multiply folded to 64 bits, as
/// foldhash and wyhash do), where FNV-1a took a multiply per byte: these keys
/// are method names, authorities and addresses of 10 to 40 bytes, looked up
/// on every request. Their number is capped, so a keyed hash buys nothing
/// here: a peer that made every key collide would only make a lookup walk
/// at most `capacity` entries.
#[derive(Default)]
struct Folded(u64);

/// The 64-bit fractional parts of the golden ratio and of pi: the first
/// multiplies, the second keeps a zero word from zeroing the hash.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const PI: u64 = 0x243f_6a88_85a3_08d3;

fn fold(hash: u64, word: u64) -> u64 {
    let product = u128::from(hash ^ word ^ PI) * u128::from(SEED);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The last 0 to 7 bytes as a word, read as wyhash does (two overlapping
/// four-byte reads, or the first, middle and last byte), without the call to
/// `memcpy` a copy of a variable length makes.
fn tail(rest: &[u8]) -> u64 {
    match (rest.first_chunk::<4>(), rest.last_chunk::<4>()) {
        (Some(first), Some(last)) => {
            u64::from(u32::from_le_bytes(*first)) << 32 | u64::from(u32::from_le_bytes(*last))
        }
        _ => match rest {
            [] => 0,
            [first, .., last] => {
                u64::from(*first) << 16 | u64::from(rest[rest.len() / 2]) << 8 | u64::from(*last)
            }
            [only] => u64::from(*only),
        },
    }
}

impl Hasher for Folded {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = self.0;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            hash = fold(hash, u64::from_le_bytes(le));
        }
        // The length tells "a" from "a\0".
        self.0 = fold(hash ^ bytes.len() as u64, tail(words.remainder()));
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = fold(self.0, u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.0 = fold(self.0, u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.0 = fold(self.0, u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = fold(self.0, i);
    }

    fn write_usize(&mut self, i: usize) {
        self.0 = fold(self.0, i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn hash(key: impl Hash) -> u64 {
        let mut hasher = Folded::default();
        key.hash(&mut hasher);
        hasher.finish()
    }

    // Distinct keys of the shapes these maps hold get distinct hashes, spread
    // over the low bits (the slot a lookup starts at) and the high ones.
    #[test]
    fn the_hash_spreads_short_keys() {
        let mut hashes: Vec<u64> = (0..4096)
            .map(|i| hash(format!("shop.Payment/Method{i}")))
            .chain((0..4096u32).map(|i| hash((i, Some(i % 7), "OK"))))
            .chain(
                (0..4096u16).map(|port| hash(format!("10.0.{}.{}:{port}", port % 256, port / 256))),
            )
            .chain([
                hash(""),
                hash("\0"),
                hash("\0\0"),
                hash(0u8),
                hash((0u8, 0u8)),
            ])
            .collect();
        let buckets: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        let tags: std::collections::HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(buckets.len() > 3_800, "{} of 4096 buckets", buckets.len());
        assert_eq!(tags.len(), 128);
        let all = hashes.len();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), all, "no two keys collide");
    }

    #[test]
    fn full_cache_still_serves_its_series() {
        let cache = SeriesCache::new(1);
        assert_eq!(cache.with("a", || 1, |v| *v), Some(1));
        assert_eq!(cache.with("b", || 2, |v| *v), None);
        assert_eq!(cache.with("a", || 3, |v| *v), Some(1));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn borrowed_lookups_find_owned_keys_and_respect_the_capacity() {
        let cache = SeriesCache::<Box<str>, u8>::new(1);
        let made = std::cell::Cell::new(0);
        let get = |k: &str| {
            cache.with_borrowed(
                k,
                || {
                    made.set(made.get() + 1);
                    Some((k.into(), made.get()))
                },
                |v| *v,
            )
        };
        assert_eq!(get("a"), Some(1));
        assert_eq!(get("a"), Some(1));
        assert_eq!(get("b"), None, "full");
        assert_eq!(made.get(), 1, "a full cache makes nothing");
        let declined = SeriesCache::<Box<str>, u8>::new(4);
        assert_eq!(declined.with_borrowed("x", || None, |v| *v), None);
        assert!(declined.is_empty(), "a declined insert stores nothing");
    }

    proptest! {
        // Added one at a time, the cache is a bounded map: a key is found
        // once added, a new key is added while there is room, and refused
        // (nothing made) when full. Few distinct keys and small capacities,
        // so that probes collide and wrap around the table.
        #[test]
        fn sequential_use_is_a_bounded_map(
            capacity in 0usize..6,
            keys in proptest::collection::vec(0u16..12, 0..64),
        ) {
            let cache = SeriesCache::<u16, usize>::new(capacity);
            let mut model = HashMap::new();
            for (i, key) in keys.into_iter().enumerate() {
                let made = std::cell::Cell::new(false);
                let got = cache.with(key, || { made.set(true); i }, |v| *v);
                let expected = match model.get(&key) {
                    Some(v) => Some(*v),
                    None if model.len() < capacity => {
                        model.insert(key, i);
                        Some(i)
                    }
                    None => None,
                };
                prop_assert_eq!(got, expected);
                prop_assert_eq!(made.get(), expected == Some(i));
                prop_assert_eq!(cache.len(), model.len());
            }
        }
    }

    // Threads adding the same keys at once: each key is kept once, and every
    // thread is handed the entry that was kept (many rounds, each on a fresh
    // cache, the threads let go together, so that adds race).
    #[test]
    fn concurrent_adds_agree_on_one_entry_per_key() {
        for _ in 0..200 {
            let cache = SeriesCache::<u32, (usize, u32)>::new(16);
            let start = std::sync::Barrier::new(4);
            let seen: Vec<Vec<(usize, u32)>> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..4)
                    .map(|thread| {
                        let (cache, start) = (&cache, &start);
                        scope.spawn(move || {
                            start.wait();
                            (0..16u32)
                                .map(|key| cache.with(key, || (thread, key), |v| *v).expect("room"))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().expect("worker"))
                    .collect()
            });
            for key in 0..16 {
                let kept = seen[0][key];
                assert_eq!(kept.1, key as u32);
                assert!(seen.iter().all(|thread| thread[key] == kept), "key {key}");
            }
            assert_eq!(cache.len(), 16);
        }
    }
}
