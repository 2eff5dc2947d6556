//! Roles and what each may do (SPEC §6). The caller of every endpoint is a `Principal`.

use super::ticket::{Level, api_enum};
use super::validation::{Checker, Invalid};
use uuid::Uuid;

api_enum! {
    /// What a user may do.
    Role {
        Admin => "admin",
        Supervisor => "supervisor",
        Agent => "agent",
        Agency => "agency",
        /// Reads `GET /metrics` and nothing else (a Prometheus server's token).
        Metrics => "metrics",
        /// Posts piped mail to `POST /inbound/mail` and nothing else (a mail server's token).
        Mailgate => "mailgate",
        /// Posts monitoring states to `/monitoring/...` and nothing else (a monitor's token).
        Monitor => "monitor",
    }
}

impl Role {
    /// A machine's role: it calls only its own endpoints, whatever an endpoint's own rule
    /// would allow, and never has a level or an agency.
    pub fn is_machine(self) -> bool {
        matches!(self, Role::Metrics | Role::Mailgate | Role::Monitor)
    }

    /// What a machine's role may call, for the 403 that refuses it elsewhere.
    pub fn machine_scope(self) -> Option<&'static str> {
        match self {
            Role::Metrics => Some("/metrics"),
            Role::Mailgate => Some("/inbound/mail"),
            Role::Monitor => Some("/monitoring"),
            _ => None,
        }
    }
}

api_enum! {
    /// A change to who may act, as the audit records it.
    AccessAction {
        UserCreated => "user_created",
        UserChanged => "user_changed",
        UserDeactivated => "user_deactivated",
        UserActivated => "user_activated",
        TokenCreated => "token_created",
        TokenRevoked => "token_revoked",
    }
}

api_enum! {
    /// The entrance an access change came through.
    AccessVia {
        Api => "api",
        Cli => "cli",
        Bootstrap => "bootstrap",
        Demo => "demo",
        Oidc => "oidc",
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: Uuid,
    pub name: String,
    pub role: Role,
    /// Set for agents only.
    pub level: Option<Level>,
    /// Set for agency users only.
    pub agency_id: Option<Uuid>,
}

impl Principal {
    /// Opening tickets and recording their events.
    pub fn can_work_tickets(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor | Role::Agent)
    }

    /// Reading one ticket: staff read all; an agency those of its own agency and the
    /// malfunctions that affect it (`affected`: the ticket's affected agencies).
    pub fn can_read_ticket_of(&self, ticket_agency: Option<Uuid>, affected: &[Uuid]) -> bool {
        match self.role {
            Role::Admin | Role::Supervisor | Role::Agent => true,
            Role::Metrics | Role::Mailgate | Role::Monitor => false,
            Role::Agency => self
                .agency_id
                .is_some_and(|own| ticket_agency == Some(own) || affected.contains(&own)),
        }
    }

    /// Whether the caller reads the ticket only because the malfunction affects its agency:
    /// it then sees neither the requester nor internal notes.
    pub fn reads_as_affected_agency(&self, ticket_agency: Option<Uuid>) -> bool {
        self.role == Role::Agency && self.agency_id != ticket_agency
    }

    /// Creating and changing agencies.
    pub fn can_manage_agencies(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// Creating and changing users, reading the user list and the audit of access changes.
    pub fn can_manage_users(&self) -> bool {
        self.role == Role::Admin
    }

    /// Scraping `GET /metrics` with a token (without one, loopback callers may, when allowed).
    pub fn can_read_metrics(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Metrics)
    }

    /// Posting a piped message to the mail ingest (SPEC §8).
    pub fn can_post_inbound_mail(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Mailgate)
    }

    /// Posting monitoring states, check results and downtimes (SPEC §9).
    pub fn can_ingest_monitoring(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Monitor)
    }

    /// Listing, creating and revoking the tokens of `user_id`: one's own, or anyone's for an
    /// admin.
    pub fn can_manage_tokens_of(&self, user_id: Uuid) -> bool {
        self.role == Role::Admin || self.user_id == user_id
    }

    /// Reading the outbox: the e-mails written, their recipients and delivery errors.
    pub fn can_read_outbox(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// Retrying an undeliverable e-mail.
    pub fn can_retry_mail(&self) -> bool {
        self.role == Role::Admin
    }

    /// Sending a period's malfunction reports now.
    pub fn can_send_reports(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// Withdrawing a public notice posted by mistake.
    pub fn can_withdraw_notices(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// Reading reports (an agency is limited to its own data by the caller).
    pub fn can_read_reports(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor | Role::Agency)
    }

    /// Taking charge of (or being assigned) a ticket at `level`: level-2 work needs a
    /// level-2 agent; supervisors and admins may act at any level.
    pub fn can_handle_level(&self, level: Level) -> bool {
        match self.role {
            Role::Admin | Role::Supervisor => true,
            Role::Agent => self.level.is_some_and(|own| own >= level),
            Role::Agency | Role::Metrics | Role::Mailgate | Role::Monitor => false,
        }
    }
}

/// Checks that a user's role, level and agency fit together (an agent has a level and only an
/// agent has one; an agency user has an agency and only it has one). Creation and change share
/// it; `hint` is added to the message of a field a change left behind.
pub fn check_role_fields(
    checker: &mut Checker,
    role: Role,
    level: Option<Level>,
    agency_id: Option<Uuid>,
    hint: &str,
) {
    match (role, level) {
        (Role::Agent, None) => checker.add("level", "is required for an agent (1 or 2)"),
        (role, Some(_)) if role != Role::Agent => {
            checker.add("level", format!("is only for agents{hint}"))
        }
        _ => {}
    }
    match (role, agency_id) {
        (Role::Agency, None) => checker.add("agency_id", "is required for an agency user"),
        (role, Some(_)) if role != Role::Agency => {
            checker.add("agency_id", format!("is only for agency users{hint}"))
        }
        _ => {}
    }
}

/// A level as the API sends it (1 or 2).
pub fn parse_level(checker: &mut Checker, level: Option<i32>) -> Option<Level> {
    let n = level?;
    let level = Level::from_number(n.into());
    if level.is_none() {
        checker.add("level", "must be 1 or 2");
    }
    level
}

/// The longest identity an OpenID Connect provider may name a person by.
pub const OIDC_SUBJECT_MAX_CHARS: usize = 255;

/// An identity an OpenID Connect provider names a person by: one line, at most
/// `OIDC_SUBJECT_MAX_CHARS` characters.
pub fn check_oidc_subject(checker: &mut Checker, subject: Option<&str>) {
    if let Some(subject) = subject {
        checker.required_line("oidc_subject", Some(subject), OIDC_SUBJECT_MAX_CHARS);
    }
}

/// A machine's user is never a person an identity provider signs in: it has no
/// `oidc_subject`.
pub fn check_machine_identity(checker: &mut Checker, role: Role, oidc_subject: Option<&str>) {
    if role.is_machine() && oidc_subject.is_some() {
        checker.add(
            "oidc_subject",
            format!(
                "is only for people: `{}` is a machine's role",
                role.as_str()
            ),
        );
    }
}

/// Checks a new user's fields; the same rules serve the API and `helpdesk user add`.
pub fn check_new_user(
    name: Option<&str>,
    role: Option<Role>,
    level: Option<i32>,
    agency_id: Option<Uuid>,
) -> Result<(String, Role, Option<Level>), Invalid> {
    let mut checker = Checker::new();
    checker.required_line("name", name, 200);
    let level = parse_level(&mut checker, level);
    match role {
        None => checker.add("role", "is required (admin, supervisor, agent or agency)"),
        Some(role) => check_role_fields(&mut checker, role, level, agency_id, ""),
    }
    checker.finish()?;
    Ok((
        name.unwrap_or_default().trim().to_owned(),
        role.expect("checked"),
        level,
    ))
}
