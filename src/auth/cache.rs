//! Verified keys, remembered so that a call does not cost a database round trip to look up
//! its key. A revocation reaches every replica at once as a notification sent at commit
//! (`followup keys revoke`); entries also expire after a short time, and all are dropped
//! whenever the notification connection was lost, so a missed notification cannot keep a
//! revoked key alive for long.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::keys::KeyRecord;

/// How long a looked-up key is trusted without looking again.
pub const TTL: Duration = Duration::from_secs(30);

/// Entries kept at most; past it the cache starts over (keys are few; this bounds memory
/// whatever callers send).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
struct Entry {
    record: KeyRecord,
    fetched: Instant,
}

/// Keys by (tenant, key ID).
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<(String, String), Entry>>,
    /// Bumped by every forget and clear: a lookup that started before one must not store
    /// what it read, which may be the state from before a revocation.
    generation: AtomicU64,
}

impl KeyCache {
    /// The stored record of a key, if looked up less than [`TTL`] ago.
    pub fn get(&self, tenant: &str, key_id: &str) -> Option<KeyRecord> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&(tenant.to_owned(), key_id.to_owned()))?;
        (entry.fetched.elapsed() < TTL).then(|| entry.record.clone())
    }

    /// Where the cache is now; pass it to [`put`](Self::put) after reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Remembers what the database said about a key, read since `generation`; if a key
    /// was forgotten meanwhile, the read may predate a revocation and is not kept.
    pub fn put(&self, generation: u64, tenant: &str, key_id: &str, record: KeyRecord) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((tenant.to_owned(), key_id.to_owned()), Entry { record, fetched: Instant::now() });
    }

    /// Forgets one key (it was revoked).
    pub fn forget(&self, tenant: &str, key_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(&(tenant.to_owned(), key_id.to_owned()));
    }

    /// Forgets every key (revocations may have been missed).
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> KeyRecord {
        KeyRecord { secret_sha256: vec![1; 32], role: "ADMIN".into(), unit_id: None, revoke_time: None }
    }

    #[test]
    fn remembers_forgets_and_clears() {
        let cache = KeyCache::default();
        assert!(cache.get("demo", "k1").is_none());
        cache.put(cache.generation(), "demo", "k1", record());
        cache.put(cache.generation(), "demo", "k2", record());
        assert!(cache.get("demo", "k1").is_some());
        assert!(cache.get("other", "k1").is_none(), "keys are per tenant");
        cache.forget("demo", "k1");
        assert!(cache.get("demo", "k1").is_none());
        assert!(cache.get("demo", "k2").is_some());
        cache.clear();
        assert!(cache.get("demo", "k2").is_none());
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_kept() {
        let cache = KeyCache::default();
        let before = cache.generation();
        cache.forget("demo", "k1"); // the revocation arrives while the lookup reads
        cache.put(before, "demo", "k1", record());
        assert!(cache.get("demo", "k1").is_none());
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = KeyCache::default();
        for i in 0..=MAX_ENTRIES {
            cache.put(cache.generation(), "demo", &format!("k{i}"), record());
        }
        assert_eq!(cache.entries.read().unwrap().len(), 1, "cleared at the limit, then the newest kept");
    }
}
