//! The verifier's settings and their validation: what is accepted as an issuer URL, and the
//! limits that keep a misconfiguration from turning into a silent security hole.

use super::OidcError;
use std::time::Duration;
use url::{Host, Url};

/// The longest clock skew the verifier will allow.
const MAX_LEEWAY_SECONDS: u64 = 24 * 60 * 60;

/// How to verify bearer JWTs from one OpenID Connect issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer, as its discovery document names it (e.g.
    /// `https://sso.example.it/realms/csi`); one trailing slash more or less is tolerated.
    /// HTTPS, or HTTP on a loopback host (tests, development).
    pub issuer: String,
    /// The audience a token must name in `aud` (a string, or an array containing it).
    pub audience: String,
    /// The claim that identifies the user: `sub` (the default), `email`,
    /// `preferred_username`, …; it must be a non-empty string.
    pub identity_claim: String,
    /// The claim listing the user's groups (an array of strings, or one string), if any.
    pub groups_claim: Option<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`; 60 by default, at most a day.
    pub leeway_seconds: u64,
    /// Timeout of each request to the provider (discovery, key set).
    pub http_timeout: Duration,
    /// The least time between two key-set fetches prompted by a token naming an unknown
    /// key, and between retries after the provider failed; 10 s by default. Within it, a
    /// token with an unknown key is rejected without asking the provider again.
    pub jwks_refetch_interval: Duration,
    /// How long a fetched key set is trusted before the next verification refreshes it (so
    /// that a key the provider withdrew stops being accepted); one hour by default. If the
    /// refresh fails, the old set is kept.
    pub jwks_max_age: Duration,
}

impl OidcConfig {
    /// Settings for `issuer` and `audience`, with the defaults for everything else.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> OidcConfig {
        OidcConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            identity_claim: "sub".into(),
            groups_claim: None,
            leeway_seconds: 60,
            http_timeout: Duration::from_secs(10),
            jwks_refetch_interval: Duration::from_secs(10),
            jwks_max_age: Duration::from_secs(60 * 60),
        }
    }

    /// Checks the settings; returns the URL of the issuer's discovery document.
    pub(crate) fn discovery_url(&self) -> Result<String, OidcError> {
        let base = trim_one_slash(&self.issuer);
        let url =
            Url::parse(base).map_err(|e| OidcError::Config(format!("issuer is not a URL: {e}")))?;
        require_secure_url(&url).map_err(|reason| OidcError::Config(format!("issuer {reason}")))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(OidcError::Config(
                "issuer must have no query or fragment".into(),
            ));
        }
        if self.audience.trim().is_empty() {
            return Err(OidcError::Config("audience must not be empty".into()));
        }
        if self.identity_claim.trim().is_empty() {
            return Err(OidcError::Config("identity claim must not be empty".into()));
        }
        if self
            .groups_claim
            .as_deref()
            .is_some_and(|claim| claim.trim().is_empty())
        {
            return Err(OidcError::Config(
                "groups claim, when set, must not be empty".into(),
            ));
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(OidcError::Config(format!(
                "leeway must be at most {MAX_LEEWAY_SECONDS} seconds"
            )));
        }
        if self.http_timeout.is_zero() {
            return Err(OidcError::Config("HTTP timeout must not be zero".into()));
        }
        Ok(format!("{base}/.well-known/openid-configuration"))
    }
}

/// Whether the issuer named by a discovery document is the configured one: the same, up to
/// one trailing slash.
pub(crate) fn same_issuer(configured: &str, discovered: &str) -> bool {
    configured == discovered || trim_one_slash(configured) == trim_one_slash(discovered)
}

fn trim_one_slash(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

/// HTTPS, or HTTP on a loopback host; never credentials in the URL. The error completes a
/// sentence about the URL ("must use https …").
pub(crate) fn require_secure_url(url: &Url) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(host)) if is_loopback(&host) => Ok(()),
        _ => Err("must use https (http only on 127.0.0.1, ::1 or localhost)".into()),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => address.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> OidcConfig {
        OidcConfig::new(issuer, "helpdesk")
    }

    #[test]
    fn https_issuers_are_accepted_with_or_without_a_trailing_slash() {
        for issuer in [
            "https://sso.example.it/realms/csi",
            "https://sso.example.it/realms/csi/",
        ] {
            assert_eq!(
                config(issuer).discovery_url(),
                Ok("https://sso.example.it/realms/csi/.well-known/openid-configuration".into())
            );
        }
    }

    #[test]
    fn plain_http_is_accepted_only_on_loopback_hosts() {
        for issuer in [
            "http://127.0.0.1:8080",
            "http://[::1]:8080/realms/x",
            "http://localhost:9000",
        ] {
            assert!(config(issuer).discovery_url().is_ok(), "{issuer}");
        }
        for issuer in [
            "http://sso.example.it/realms/csi",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "sso.example.it",
            "",
        ] {
            assert!(
                matches!(config(issuer).discovery_url(), Err(OidcError::Config(_))),
                "{issuer}"
            );
        }
    }

    #[test]
    fn credentials_query_and_fragment_in_the_issuer_are_refused() {
        for issuer in [
            "https://user:secret@sso.example.it",
            "https://sso.example.it/?realm=csi",
            "https://sso.example.it/#csi",
        ] {
            assert!(
                matches!(config(issuer).discovery_url(), Err(OidcError::Config(_))),
                "{issuer}"
            );
        }
    }

    #[test]
    fn empty_audience_claims_and_zero_timeout_are_refused() {
        let base = config("https://sso.example.it");
        let broken = [
            OidcConfig {
                audience: " ".into(),
                ..base.clone()
            },
            OidcConfig {
                identity_claim: String::new(),
                ..base.clone()
            },
            OidcConfig {
                groups_claim: Some(String::new()),
                ..base.clone()
            },
            OidcConfig {
                leeway_seconds: MAX_LEEWAY_SECONDS + 1,
                ..base.clone()
            },
            OidcConfig {
                http_timeout: Duration::ZERO,
                ..base.clone()
            },
        ];
        for config in broken {
            assert!(
                matches!(config.discovery_url(), Err(OidcError::Config(_))),
                "{config:?}"
            );
        }
    }

    #[test]
    fn the_discovered_issuer_may_differ_by_one_trailing_slash() {
        assert!(same_issuer("https://a/realms/x", "https://a/realms/x"));
        assert!(same_issuer("https://a/realms/x/", "https://a/realms/x"));
        assert!(same_issuer("https://a/realms/x", "https://a/realms/x/"));
        assert!(!same_issuer("https://a/realms/x", "https://a/realms/y"));
        assert!(!same_issuer("https://a/realms/x", "https://a/realms/x//"));
    }
}
