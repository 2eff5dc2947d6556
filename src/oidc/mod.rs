//! OpenID Connect bearer tokens: verifies a JWT issued by one configured issuer (signature
//! against the issuer's published keys, issuer, audience, times against an injected `now`)
//! and says who it names. It owns discovery and the key-set cache; it knows nothing of HTTP
//! requests, users or the database (the auth layer maps its errors: `Rejected` to 401,
//! `Unavailable` to 503). It never logs a token nor puts one in an error.
//!
//! Crates: `jsonwebtoken` 12 without default features, with only its `rust_crypto` backend
//! (RSA, ECDSA P-256/P-384 and Ed25519 from the RustCrypto crates): pure Rust, a few dozen
//! small crates, where the `aws_lc_rs` backend would build AWS-LC's C library from source
//! on every clean build; the PEM feature is not needed, keys come as JWKs.
//! `ureq` (blocking, native-tls as elsewhere in the service) fetches discovery and the key
//! set; callers inside actix run `verify` through `web::block`.

mod claims;
mod config;
mod keys;
mod provider;

pub use claims::looks_like_jwt;
pub use config::OidcConfig;

use chrono::{DateTime, Utc};
use claims::{Claims, TokenHeader};
use keys::{KeyLookup, VerificationKey};
use provider::{Provider, Published};
use std::collections::HashSet;

/// Who a verified token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The value of the configured identity claim (`sub` by default).
    pub subject: String,
    /// The values of the configured groups claim; empty without one.
    pub groups: Vec<String>,
    /// The token's `exp` (without leeway).
    pub expires_at: DateTime<Utc>,
}

/// Why a token was not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The token is not acceptable; the reason is fit for a 401 problem and never quotes
    /// the token.
    #[error("token rejected: {0}")]
    Rejected(String),
    /// The provider cannot be reached or answers garbage: try again later (503).
    #[error("OpenID provider unavailable: {0}")]
    Unavailable(String),
    /// The configuration cannot work.
    #[error("OpenID Connect configuration: {0}")]
    Config(String),
}

/// Verifies bearer JWTs of one issuer. Shareable (`Send + Sync`, e.g. in an `Arc`): the
/// key-set cache is shared by every caller.
pub struct OidcVerifier {
    config: OidcConfig,
    provider: Provider,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// Checks `config` (the issuer must use https, or http on 127.0.0.1, ::1 or localhost).
    /// Contacts nobody: discovery and the key set are fetched on first use.
    pub fn new(config: OidcConfig) -> Result<OidcVerifier, OidcError> {
        let discovery_url = config.discovery_url()?;
        let provider = Provider::new(&config, discovery_url)?;
        Ok(OidcVerifier { config, provider })
    }

    /// The settings in use.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Fetches discovery and the key set now (e.g. at start, to fail early), unless cached.
    pub fn prefetch(&self) -> Result<(), OidcError> {
        self.provider.current().map(|_| ())
    }

    /// Verifies `token` at `now` (the service's clock, never the system's).
    ///
    /// Blocking: may fetch discovery and the key set. A token naming a key (`kid`) the cached
    /// set lacks makes the verifier fetch the set again, at most once per
    /// `jwks_refetch_interval`; the new set replaces the old one, so keys the provider
    /// withdrew are no longer accepted after that fetch.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<VerifiedIdentity, OidcError> {
        let header = claims::read_header(token)?;
        let published = self.provider.current()?;
        match published.keys.find(&header) {
            KeyLookup::Found(key) => self.check(token, &header, key, &published, now),
            KeyLookup::Unfit(reason) => Err(OidcError::Rejected(reason.into())),
            KeyLookup::Unknown => {
                let Some(fresher) = self.provider.refetch(&published)? else {
                    return Err(unknown_key(&header));
                };
                match fresher.keys.find(&header) {
                    KeyLookup::Found(key) => self.check(token, &header, key, &fresher, now),
                    KeyLookup::Unfit(reason) => Err(OidcError::Rejected(reason.into())),
                    KeyLookup::Unknown => Err(unknown_key(&header)),
                }
            }
        }
    }

    fn check(
        &self,
        token: &str,
        header: &TokenHeader,
        key: &VerificationKey,
        published: &Published,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, OidcError> {
        let issuer = &published.discovery.issuer;
        check_token(token, header, key, issuer, &self.config, now)
    }
}

/// Verifies a token with the key its header selected: signature, then claims.
fn check_token(
    token: &str,
    header: &TokenHeader,
    key: &VerificationKey,
    issuer: &str,
    config: &OidcConfig,
    now: DateTime<Utc>,
) -> Result<VerifiedIdentity, OidcError> {
    let claims = verify_signature(token, header, key)?;
    claims::check_claims(&claims, issuer, config, now)
}

fn unknown_key(header: &TokenHeader) -> OidcError {
    OidcError::Rejected(match header.kid {
        Some(_) => "token is signed by a key the provider does not publish".into(),
        None => "token names no key (`kid`) and the provider publishes none of its type".into(),
    })
}

/// Checks the signature with jsonwebtoken and returns the claims. Its own claim checks are
/// off: it reads the system clock, and ours run against the injected `now`.
fn verify_signature(
    token: &str,
    header: &TokenHeader,
    key: &VerificationKey,
) -> Result<Claims, OidcError> {
    use jsonwebtoken::errors::ErrorKind;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(OidcError::Rejected(
            match e.kind() {
                ErrorKind::InvalidSignature => "token signature does not verify",
                ErrorKind::InvalidAlgorithm => "token algorithm does not match its key",
                ErrorKind::InvalidRsaKey(_)
                | ErrorKind::InvalidEcdsaKey
                | ErrorKind::InvalidEddsaKey
                | ErrorKind::InvalidKeyFormat => "the provider's key for this token is unusable",
                ErrorKind::Json(_) | ErrorKind::Utf8(_) => "token claims are not a JSON object",
                _ => "token is malformed",
            }
            .into(),
        )),
    }
}

#[cfg(test)]
mod tests;
