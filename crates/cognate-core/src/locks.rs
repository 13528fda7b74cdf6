//! Per-key async mutexes.
//!
//! Password and code checks read a counter (failures, attempts, code requests), compare, and
//! write the counter back. The store's optimistic versioning keeps such a write from being
//! lost silently, but not from being *skipped*: of 100 concurrent guesses, those that lose the
//! write race have already been compared. Holding one of these mutexes per (pool, user) across
//! read → check → write makes every guess wait its turn, so each is counted before the next is
//! looked at, and a guess after the lockout threshold is answered without a check.
//!
//! The mutexes live in this process: several nodes sharing one PostgreSQL database each
//! serialise their own requests only (per node).
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// A set of async mutexes named by strings, created on first use and forgotten once no one
/// holds or waits for them.
#[derive(Default)]
pub struct KeyedLocks {
    map: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

/// Held while the key is locked; dropping it unlocks.
pub type KeyGuard = tokio::sync::OwnedMutexGuard<()>;

impl KeyedLocks {
    /// Waits for the key's mutex and returns its guard.
    pub async fn lock(&self, key: String) -> KeyGuard {
        let mutex = {
            let mut map = self.map.lock().expect("keyed locks poisoned");
            match map.get(&key).and_then(Weak::upgrade) {
                Some(m) => m,
                None => {
                    // Drop the entries nobody uses any more before the map grows.
                    if map.len() >= 1024 && map.len().is_power_of_two() {
                        map.retain(|_, w| w.strong_count() > 0);
                    }
                    let m = Arc::new(tokio::sync::Mutex::new(()));
                    map.insert(key, Arc::downgrade(&m));
                    m
                }
            }
        };
        mutex.lock_owned().await
    }

    /// How many keys are remembered (live or not yet pruned); for tests.
    pub fn len(&self) -> usize {
        self.map.lock().expect("keyed locks poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_holder_per_key() {
        let locks = Arc::new(KeyedLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (locks, inside, max) = (locks.clone(), inside.clone(), max.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock("k".into()).await;
                let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(max.load(Ordering::SeqCst), 1);
        // Other keys are independent.
        let _a = locks.lock("a".into()).await;
        let _b = locks.lock("b".into()).await;
    }
}
