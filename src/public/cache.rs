//! The public outputs served from memory, so that a crowd refreshing the status page during
//! an outage does not load the database: the notices are read at most once per
//! `public_cache_seconds` on this instance (one reader at a time; the others wait for it),
//! and each output is rendered once per reading. An event that changes a notice here makes
//! the next request read again at once (`NoticeChanges`); a change made by another instance
//! sharing the database shows when the reading expires.

use crate::db::notices::{NoticeChanges, PublishedNotices};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most rendered outputs kept: the outputs times the `days` and base URLs asked for.
const MAX_RENDERED: usize = 256;

/// Which output, for how many days, and (the feed only) under which base URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutputKey {
    pub output: Output,
    pub days: u32,
    pub base_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    Json,
    Atom,
    Page,
}

/// One rendered output with its strong entity tag (a hash of the body).
#[derive(Debug)]
pub struct Rendered {
    pub body: String,
    pub content_type: &'static str,
    pub etag: String,
}

impl Rendered {
    pub fn new(body: String, content_type: &'static str) -> Rendered {
        let digest = Sha256::digest(body.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Rendered {
            etag: format!("\"{hex}\""),
            body,
            content_type,
        }
    }
}

/// When a reading was taken: the count of changes it saw, and the instant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stamp {
    changes: u64,
    taken: Instant,
}

#[derive(Default)]
struct Entries {
    reading: Option<(Stamp, Arc<PublishedNotices>)>,
    rendered: HashMap<OutputKey, Arc<Rendered>>,
}

/// The cache, shared by this instance's workers (in `Runtime`).
pub struct PublicCache {
    ttl: Duration,
    entries: parking_lot::Mutex<Entries>,
    /// One reading at a time: the requests that find the cache stale wait for it.
    reading: tokio::sync::Mutex<()>,
}

impl PublicCache {
    /// A cache whose readings hold `ttl_seconds` (0: every request reads the database).
    pub fn new(ttl_seconds: u64) -> PublicCache {
        PublicCache {
            ttl: Duration::from_secs(ttl_seconds),
            entries: parking_lot::Mutex::new(Entries::default()),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// How long a reading holds, for `Cache-Control: max-age`.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl.as_secs()
    }

    /// The output `key`, from the cache while its reading holds; otherwise `load` reads the
    /// notices (once for every output) and `render` renders them.
    pub async fn output<E, L, F, R>(
        &self,
        changes: &NoticeChanges,
        key: OutputKey,
        load: L,
        render: R,
    ) -> Result<Arc<Rendered>, E>
    where
        L: FnOnce() -> F,
        F: Future<Output = Result<PublishedNotices, E>>,
        R: FnOnce(&PublishedNotices) -> Result<Rendered, E>,
    {
        if self.ttl.is_zero() {
            return Ok(Arc::new(render(&load().await?)?));
        }
        if let Some(hit) = self.fresh(&key, changes.current()) {
            return Ok(hit);
        }
        let _one_reader = self.reading.lock().await;
        // The count before the reading: a change committed while it reads makes it stale.
        let seen = changes.current();
        if let Some(hit) = self.fresh(&key, seen) {
            return Ok(hit);
        }
        let reading = match self.fresh_reading(seen) {
            Some(reading) => reading,
            None => {
                let stamp = Stamp {
                    changes: seen,
                    taken: Instant::now(),
                };
                let notices = Arc::new(load().await?);
                let mut entries = self.entries.lock();
                entries.reading = Some((stamp, notices.clone()));
                entries.rendered.clear();
                notices
            }
        };
        let rendered = Arc::new(render(&reading)?);
        let mut entries = self.entries.lock();
        // Full: the outputs asked for first (the page and feed everyone reads) stay; a
        // caller cycling through `days` or host names only renders its own, uncached.
        if entries.rendered.len() < MAX_RENDERED {
            entries.rendered.insert(key, rendered.clone());
        }
        Ok(rendered)
    }

    fn fresh_reading(&self, changes: u64) -> Option<Arc<PublishedNotices>> {
        let entries = self.entries.lock();
        let (stamp, notices) = entries.reading.as_ref()?;
        (stamp.changes == changes && stamp.taken.elapsed() < self.ttl).then(|| notices.clone())
    }

    fn fresh(&self, key: &OutputKey, changes: u64) -> Option<Arc<Rendered>> {
        self.fresh_reading(changes)?;
        self.entries.lock().rendered.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key() -> OutputKey {
        OutputKey {
            output: Output::Json,
            days: 90,
            base_url: String::new(),
        }
    }

    #[test]
    fn a_change_on_this_instance_makes_the_next_request_read_again() {
        let cache = PublicCache::new(60);
        let changes = NoticeChanges::default();
        let reads = AtomicUsize::new(0);
        let get = || {
            futures_executor(cache.output::<(), _, _, _>(
                &changes,
                key(),
                || async {
                    reads.fetch_add(1, Ordering::SeqCst);
                    Ok(PublishedNotices::default())
                },
                |_| Ok(Rendered::new("{}".into(), "application/json")),
            ))
        };
        let first = get().unwrap();
        let second = get().unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1, "served from memory");
        assert_eq!(first.etag, second.etag);
        changes.count_one();
        get().unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    fn futures_executor<F: Future>(future: F) -> F::Output {
        actix_web::rt::System::new().block_on(future)
    }
}
