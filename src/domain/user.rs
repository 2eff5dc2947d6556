//! Roles and what each may do (SPEC §6). The caller of every endpoint is a `Principal`.

use super::ticket::{Level, api_enum};
use uuid::Uuid;

api_enum! {
    /// What a user may do.
    Role {
        Admin => "admin",
        Supervisor => "supervisor",
        Agent => "agent",
        Agency => "agency",
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

    /// Creating users and reading the user list.
    pub fn can_manage_users(&self) -> bool {
        self.role == Role::Admin
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
            Role::Agency => false,
        }
    }
}
