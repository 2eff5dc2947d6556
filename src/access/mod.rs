//! Who may act: creating and changing users (`users`), issuing, revoking and recognising their
//! tokens (`tokens`), and who an OpenID Connect identity is (`oidc`). Every entrance (the API,
//! the CLI, the first start, the demo, a sign-in) goes through these functions, so the rules
//! and the audit are written once. Each change and its audit entry are one transaction.

pub mod oidc;
pub mod tokens;
mod users;

pub use tokens::{
    Authenticated, IssuedToken, TokenPolicy, TokenRequest, authenticate, issue_token, revoke_token,
};
pub use users::{UserPatch, change_user, create_user, create_user_in};

use crate::db::audit::NewAuditEntry;
use crate::domain::{AccessAction, AccessVia, Principal};
use serde_json::Value;
use uuid::Uuid;

/// Held while a user is changed: "is another admin left?" is judged by one change at a time,
/// so two admins cannot remove each other at once.
pub(crate) const USER_CHANGE_LOCK_KEY: i64 = 0x6864_7573_6572_7331; // "hdusers1"

/// Who makes an access change, as the audit records it.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A user, through the API.
    User(Principal),
    /// An operator at the command line.
    Cli,
    /// The first start of an empty database.
    Bootstrap,
    /// `helpdesk demo seed`.
    Demo,
    /// An OpenID Connect sign-in, making or changing a user from its groups.
    Oidc,
}

impl Actor {
    fn id(&self) -> Option<Uuid> {
        match self {
            Actor::User(principal) => Some(principal.user_id),
            _ => None,
        }
    }

    fn via(&self) -> AccessVia {
        match self {
            Actor::User(_) => AccessVia::Api,
            Actor::Cli => AccessVia::Cli,
            Actor::Bootstrap => AccessVia::Bootstrap,
            Actor::Demo => AccessVia::Demo,
            Actor::Oidc => AccessVia::Oidc,
        }
    }

    fn audit(
        &self,
        action: AccessAction,
        user_id: Uuid,
        token_id: Option<Uuid>,
        changes: Value,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: self.id(),
            via: self.via(),
            action,
            user_id,
            token_id,
            changes,
        }
    }
}
