//! The settings of who may act: token lifetimes and caching, OpenID Connect sign-in.

use super::Settings;
use serde::{Deserialize, Serialize};

/// What a group of the identity provider makes its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRole {
    pub role: crate::domain::Role,
    /// For agents: 1 or 2.
    pub level: Option<i32>,
    /// For agency users: the agency's code.
    pub agency: Option<String>,
}

impl Settings {
    /// How long new tokens may live.
    pub fn token_policy(&self) -> crate::access::TokenPolicy {
        crate::access::TokenPolicy {
            max_days: self.token_max_days,
        }
    }

    /// The OpenID Connect verifier's settings and the groups' roles; `None` without an issuer.
    pub fn oidc_sign_in(
        &self,
    ) -> anyhow::Result<Option<(crate::oidc::OidcConfig, Vec<crate::access::oidc::GroupRole>)>>
    {
        if self.oidc_issuer.is_empty() {
            return Ok(None);
        }
        let config = crate::oidc::OidcConfig {
            identity_claim: self.oidc_identity_claim.clone(),
            groups_claim: Some(self.oidc_groups_claim.clone()).filter(|claim| !claim.is_empty()),
            leeway_seconds: self.oidc_leeway_seconds,
            jwks_refetch_interval: std::time::Duration::from_secs(self.oidc_jwks_refetch_seconds),
            ..crate::oidc::OidcConfig::new(&self.oidc_issuer, &self.oidc_audience)
        };
        crate::oidc::OidcVerifier::new(config.clone())?;
        let mut roles = Vec::new();
        for (group, mapped) in &self.oidc_group_roles {
            let mut checker = crate::domain::validation::Checker::new();
            let level = crate::domain::user::parse_level(&mut checker, mapped.level);
            let agency = mapped.agency.as_ref().map(|_| uuid::Uuid::nil());
            crate::domain::user::check_role_fields(&mut checker, mapped.role, level, agency, "");
            if mapped.role.is_machine() {
                anyhow::bail!(
                    "oidc_group_roles.{group}: `{}` is a machine's role, not a person's",
                    mapped.role.as_str()
                );
            }
            if let Err(invalid) = checker.finish() {
                anyhow::bail!("oidc_group_roles.{group}: {invalid}");
            }
            roles.push(crate::access::oidc::GroupRole {
                group: group.clone(),
                role: mapped.role,
                level,
                agency_code: mapped.agency.clone(),
            });
        }
        Ok(Some((config, roles)))
    }

    pub(super) fn check_access(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.token_cache_seconds <= 3600,
            "token_cache_seconds must be at most 3600"
        );
        anyhow::ensure!(
            self.token_max_days
                .is_none_or(|days| (1..=36_500).contains(&days)),
            "token_max_days must be between 1 and 36500"
        );
        if self.oidc_issuer.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(
            !self.oidc_audience.is_empty(),
            "oidc_audience must be set with oidc_issuer (the helpdesk's client id)"
        );
        anyhow::ensure!(
            !self.oidc_identity_claim.is_empty(),
            "oidc_identity_claim must name a claim, like sub or email"
        );
        anyhow::ensure!(
            self.oidc_group_roles.is_empty() || !self.oidc_groups_claim.is_empty(),
            "oidc_group_roles needs oidc_groups_claim (the claim that lists the groups)"
        );
        self.oidc_sign_in()?;
        Ok(())
    }
}
