//! What the `helpdesk user …` and `helpdesk token …` commands do, through the same use cases
//! as the API (`crate::access`), recorded in the audit as done at the command line.

use crate::access::{self, Actor, TokenRequest};
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::domain::user::{check_new_user, check_oidc_subject};
use crate::domain::validation::Checker;
use crate::domain::{Role, VersionCheck};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

/// A user to add from the command line.
#[derive(Debug, Clone)]
pub struct UserToAdd {
    pub name: String,
    pub role: Role,
    pub level: Option<i32>,
    pub agency_id: Option<Uuid>,
    pub oidc_subject: Option<String>,
}

/// Adds a user; returns its first token (shown once).
pub fn add_user(
    settings: &Settings,
    pool: &Pool,
    user: UserToAdd,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let (name, role, level) = check_new_user(
        Some(&user.name),
        Some(user.role),
        user.level,
        user.agency_id,
    )?;
    let mut checker = Checker::new();
    check_oidc_subject(&mut checker, user.oidc_subject.as_deref());
    checker.finish()?;
    let new = db::users::NewUser {
        name,
        role,
        level,
        agency_id: user.agency_id,
        oidc_subject: user.oidc_subject,
        role_from_groups: false,
    };
    let mut conn = pool.get()?;
    let (_, issued) =
        access::create_user(&mut conn, &Actor::Cli, new, settings.token_policy(), now)?;
    Ok(issued.token)
}

/// Every user, one per line: id, role, level, agency, active, name.
pub fn list_users(pool: &Pool) -> anyhow::Result<String> {
    let mut conn = pool.get()?;
    let mut out = String::from("id\trole\tlevel\tagency_id\tactive\tname\n");
    for user in db::users::list_users(&mut conn)? {
        let principal = &user.principal;
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            principal.user_id,
            principal.role,
            principal
                .level
                .map(|l| l.number().to_string())
                .unwrap_or_default(),
            principal
                .agency_id
                .map(|a| a.to_string())
                .unwrap_or_default(),
            if user.active { "yes" } else { "no" },
            // A name cannot hold control characters (validation), so it stays on its line.
            principal.name,
        ));
    }
    Ok(out)
}

/// Activates or deactivates a user (the last active admin stays active).
pub fn set_active(pool: &Pool, id: Uuid, active: bool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let patch = access::UserPatch {
        active: Some(active),
        ..Default::default()
    };
    access::change_user(&mut conn, &Actor::Cli, id, patch, &VersionCheck::Any, now)?;
    Ok(())
}

/// Issues a token to a user; `expires_in_days` from now. Returns the token (shown once).
pub fn create_token(
    settings: &Settings,
    pool: &Pool,
    user_id: Uuid,
    name: &str,
    expires_in_days: Option<u32>,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let mut checker = Checker::new();
    checker.required_line("name", Some(name), 100);
    checker.finish()?;
    let request = TokenRequest {
        name: name.trim().to_owned(),
        expires_at: expires_in_days.map(|days| now + TimeDelta::days(i64::from(days))),
    };
    let mut conn = pool.get()?;
    let issued = access::issue_token(
        &mut conn,
        &Actor::Cli,
        user_id,
        request,
        settings.token_policy(),
        now,
    )?;
    Ok(issued.token)
}

/// Revokes a token by its id.
pub fn revoke_token(pool: &Pool, token_id: Uuid, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let token = db::api_tokens::find_token(&mut conn, token_id)?
        .ok_or_else(|| anyhow::anyhow!("no token with id {token_id}"))?;
    access::revoke_token(&mut conn, &Actor::Cli, token.user_id, token_id, now)?;
    Ok(())
}
