//! The issuer's published documents: discovery (for the issuer name and `jwks_uri`) and the
//! key set, fetched with blocking HTTP and cached. It decides when to ask the provider again,
//! so that tokens naming unknown keys cannot make the service hammer it.
//!
//! Fetch times are measured on the monotonic clock (`Instant`), not the injected `now`: the
//! throttle limits network traffic, and a service clock that stands still (tests) or jumps
//! must neither freeze nor defeat it.

use super::config::{require_secure_url, same_issuer};
use super::keys::KeySet;
use super::{OidcConfig, OidcError};
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What discovery says about the issuer.
#[derive(Debug)]
pub(crate) struct Discovery {
    /// The issuer exactly as the provider names it: tokens' `iss` must equal it.
    pub issuer: String,
    jwks_uri: String,
}

/// The documents in use.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub discovery: Arc<Discovery>,
    pub keys: Arc<KeySet>,
}

#[derive(Debug, Default)]
struct Cache {
    /// The documents last fetched, and when.
    published: Option<(Published, Instant)>,
    /// The next fetch starts again from discovery (after a failure: `jwks_uri` may move).
    rediscover: bool,
    /// The last fetch of the key set, successful or not.
    last_attempt: Option<Instant>,
    /// The last failure, while it is recent enough to be answered without asking again.
    last_failure: Option<(Instant, String)>,
}

pub(crate) struct Provider {
    configured_issuer: String,
    discovery_url: String,
    agent: ureq::Agent,
    refetch_interval: Duration,
    max_age: Duration,
    /// Held only to read or replace entries, never across a request.
    cache: Mutex<Cache>,
    /// One fetch at a time; the others wait for it and use what it got.
    fetching: Mutex<()>,
}

impl Provider {
    pub(crate) fn new(config: &OidcConfig, discovery_url: String) -> Result<Provider, OidcError> {
        let tls = ureq::native_tls::TlsConnector::new()
            .map_err(|e| OidcError::Config(format!("TLS is not available: {e}")))?;
        let agent = ureq::AgentBuilder::new()
            .timeout(config.http_timeout)
            .tls_connector(Arc::new(tls))
            .user_agent(concat!("helpdesk/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Provider {
            configured_issuer: config.issuer.clone(),
            discovery_url,
            agent,
            refetch_interval: config.jwks_refetch_interval,
            max_age: config.jwks_max_age,
            cache: Mutex::new(Cache::default()),
            fetching: Mutex::new(()),
        })
    }

    /// The documents to verify with: the cached ones while fresh, else fetched.
    pub(crate) fn current(&self) -> Result<Published, OidcError> {
        if let Some(published) = self.fresh() {
            return Ok(published);
        }
        let stale = self.cached();
        let _one_fetch = match (self.fetching.try_lock(), &stale) {
            (Some(fetching), _) => fetching,
            // Another thread is refreshing: the old set serves meanwhile, rather than every
            // caller waiting on a slow provider.
            (None, Some(stale)) => return Ok(stale.clone()),
            (None, None) => self.fetching.lock(),
        };
        // Another thread may have fetched while this one waited.
        if let Some(published) = self.fresh() {
            return Ok(published);
        }
        let stale = self.cached();
        match &stale {
            Some(stale) if self.throttled() => return Ok(stale.clone()),
            None => {
                if let Some(reason) = self.recent_failure() {
                    return Err(OidcError::Unavailable(reason));
                }
            }
            Some(_) => {}
        }
        match (self.fetch(), stale) {
            (Ok(published), _) => Ok(published),
            (Err(OidcError::Unavailable(reason)), Some(stale)) => {
                tracing::warn!(%reason, "OIDC key set refresh failed; keeping the old key set");
                Ok(stale)
            }
            (Err(e), _) => Err(e),
        }
    }

    /// A fresher key set than `seen`, because a token named a key it lacks: fetched unless
    /// another thread already did, or the last fetch was less than the refetch interval ago
    /// (then `None`). While a fetch is under way the token is refused at once rather than
    /// waiting for it: a hanging provider must not hold every request with a made-up key.
    pub(crate) fn refetch(&self, seen: &Published) -> Result<Option<Published>, OidcError> {
        let Some(_one_fetch) = self.fetching.try_lock() else {
            return Ok(None);
        };
        if let Some(cached) = self.cached()
            && !Arc::ptr_eq(&cached.keys, &seen.keys)
        {
            return Ok(Some(cached));
        }
        if self.throttled() {
            return Ok(None);
        }
        self.fetch().map(Some)
    }

    /// Fetches discovery (unless cached) and the key set, and caches them; remembers a
    /// failure for the refetch interval.
    fn fetch(&self) -> Result<Published, OidcError> {
        let started = Instant::now();
        self.cache.lock().last_attempt = Some(started);
        let result = self.fetch_documents();
        let mut cache = self.cache.lock();
        match &result {
            Ok(published) => {
                cache.published = Some((published.clone(), started));
                cache.rediscover = false;
                cache.last_failure = None;
            }
            Err(e) => {
                cache.rediscover = true;
                cache.last_failure = Some((started, e.to_string()));
            }
        }
        result
    }

    fn fetch_documents(&self) -> Result<Published, OidcError> {
        let cached_discovery = {
            let cache = self.cache.lock();
            let published = cache.published.as_ref().filter(|_| !cache.rediscover);
            published.map(|(published, _)| published.discovery.clone())
        };
        let discovery = match cached_discovery {
            Some(discovery) => discovery,
            None => Arc::new(self.fetch_discovery()?),
        };
        let document = self.get_json(&discovery.jwks_uri, "the key set")?;
        let keys = KeySet::from_document(&document).map_err(OidcError::Unavailable)?;
        tracing::info!(
            issuer = %discovery.issuer,
            keys = keys.len(),
            "fetched the OIDC key set"
        );
        Ok(Published {
            discovery,
            keys: Arc::new(keys),
        })
    }

    fn fetch_discovery(&self) -> Result<Discovery, OidcError> {
        let document = self.get_json(&self.discovery_url, "discovery")?;
        let garbage = |reason: &str| OidcError::Unavailable(format!("discovery {reason}"));
        let Some(issuer) = document.get("issuer").and_then(Value::as_str) else {
            return Err(garbage("names no `issuer`"));
        };
        if !same_issuer(&self.configured_issuer, issuer) {
            return Err(garbage("names another issuer than the configured one"));
        }
        let Some(jwks_uri) = document.get("jwks_uri").and_then(Value::as_str) else {
            return Err(garbage("names no `jwks_uri`"));
        };
        let url = url::Url::parse(jwks_uri).map_err(|_| garbage("`jwks_uri` is not a URL"))?;
        require_secure_url(&url).map_err(|reason| garbage(&format!("`jwks_uri` {reason}")))?;
        Ok(Discovery {
            issuer: issuer.to_owned(),
            jwks_uri: jwks_uri.to_owned(),
        })
    }

    fn get_json(&self, url: &str, what: &str) -> Result<Value, OidcError> {
        let unavailable = |reason: String| OidcError::Unavailable(format!("{what}: {reason}"));
        let response = match self.agent.get(url).set("Accept", "application/json").call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, _)) => {
                return Err(unavailable(format!("{url} answered HTTP {status}")));
            }
            Err(ureq::Error::Transport(e)) => return Err(unavailable(e.to_string())),
        };
        let body = response
            .into_string()
            .map_err(|e| unavailable(format!("{url}: unreadable answer: {e}")))?;
        serde_json::from_str(&body).map_err(|_| unavailable(format!("{url} answered no JSON")))
    }

    fn cached(&self) -> Option<Published> {
        let cache = self.cache.lock();
        cache
            .published
            .as_ref()
            .map(|(published, _)| published.clone())
    }

    fn fresh(&self) -> Option<Published> {
        let cache = self.cache.lock();
        let (published, fetched) = cache.published.as_ref()?;
        (fetched.elapsed() < self.max_age).then(|| published.clone())
    }

    fn throttled(&self) -> bool {
        self.cache
            .lock()
            .last_attempt
            .is_some_and(|at| at.elapsed() < self.refetch_interval)
    }

    fn recent_failure(&self) -> Option<String> {
        let cache = self.cache.lock();
        let (at, reason) = cache.last_failure.as_ref()?;
        (at.elapsed() < self.refetch_interval)
            .then(|| format!("{reason} (not asked again for {:?})", self.refetch_interval))
    }
}
