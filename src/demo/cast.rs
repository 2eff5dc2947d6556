//! Who the demo's tickets involve: the agencies (created unless present) and four agents.

use super::Seeded;
use crate::db::{self, Pool};
use crate::domain::ticket::Agency;
use crate::domain::{Level, Principal, Role};
use chrono::Utc;

/// The agencies of the demo (the municipalities around Florence the spec names, and more).
const AGENCIES: &[(&str, &str)] = &[
    ("FI", "Comune di Firenze"),
    ("FS", "Comune di Fiesole"),
    ("SC", "Comune di Scandicci"),
    ("CM", "Città Metropolitana di Firenze"),
    ("SF", "Comune di Sesto Fiorentino"),
    ("BR", "Comune di Bagno a Ripoli"),
    ("CB", "Comune di Campi Bisenzio"),
    ("IM", "Comune di Impruneta"),
    ("LS", "Comune di Lastra a Signa"),
    ("SG", "Comune di Signa"),
];

pub fn agencies(pool: &Pool, seeded: &mut Seeded) -> anyhow::Result<Vec<Agency>> {
    let mut conn = pool.get()?;
    let existing = db::agencies::list_agencies(&mut conn)?;
    let mut agencies = Vec::new();
    for (code, name) in AGENCIES {
        if let Some(agency) = existing.iter().find(|a| a.code == *code) {
            agencies.push(agency.clone());
            continue;
        }
        let contacts = vec![format!("urp@{}.comune.example", code.to_lowercase())];
        let new = db::agencies::NewAgency {
            code: (*code).into(),
            name: (*name).into(),
            contacts,
            mail_domains: vec![format!("{}.comune.example", code.to_lowercase())],
            calendar: None,
        };
        agencies.push(db::agencies::insert_agency(&mut conn, new, Utc::now())?);
        seeded.agencies += 1;
    }
    Ok(agencies)
}

/// Two first-level and two second-level agents (their tokens are not kept: these users exist
/// so that the history names real actors).
pub fn staff(pool: &Pool) -> anyhow::Result<Vec<Principal>> {
    let mut conn = pool.get()?;
    let mut staff = Vec::new();
    for (name, level) in [
        ("Giulia Rossi (demo)", Level::First),
        ("Luca Bianchi (demo)", Level::First),
        ("Marco Verdi (demo)", Level::Second),
        ("Sara Neri (demo)", Level::Second),
    ] {
        let new = db::users::NewUser {
            name: name.into(),
            role: Role::Agent,
            level: Some(level),
            agency_id: None,
            oidc_subject: None,
            role_from_groups: false,
        };
        let policy = crate::access::TokenPolicy::default();
        let (user, _token) = crate::access::create_user(
            &mut conn,
            &crate::access::Actor::Demo,
            new,
            policy,
            Utc::now(),
        )?;
        staff.push(user.principal);
    }
    Ok(staff)
}
