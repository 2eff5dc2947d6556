//! What the user and token tests share: a user's (de)activation, a request as that user, the
//! clock at an offset from T0, a user's tokens.

use super::{Reply, TestApp};
use serde_json::json;

/// The instant the user and token tests start at.
pub const T0: &str = "2026-03-02T09:00:00Z";

/// Activates or deactivates user `id` as the admin.
pub fn set_active(app: &TestApp, id: &str, active: bool) -> Reply {
    app.patch(
        &format!("/users/{id}"),
        &app.admin,
        &json!({ "active": active }),
    )
}

/// The status of `GET /users/{id}` with `token`: 200 while the token opens the door.
pub fn me(app: &TestApp, id: &str, token: &str) -> u16 {
    app.get(&format!("/users/{id}"), token).status
}

/// Sets the app's clock to T0 plus `offset_seconds`.
pub fn at(app: &TestApp, offset_seconds: i64) {
    let base = chrono::DateTime::parse_from_rfc3339(T0).unwrap();
    app.set_now(&(base + chrono::TimeDelta::seconds(offset_seconds)).to_rfc3339());
}

/// `GET /users/{id}/tokens` with `token`.
pub fn tokens_of(app: &TestApp, id: &str, token: &str) -> Reply {
    app.get(&format!("/users/{id}/tokens"), token)
}
