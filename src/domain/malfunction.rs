//! What agents record about a malfunction besides its events: the affected services and
//! agencies, the cause, and the actions taken. Checked here; stored with the ticket.

use super::validation::Checker;
use serde::Serialize;
use uuid::Uuid;

/// Most services one malfunction may name.
pub const MAX_SERVICES: usize = 50;
/// Longest service name.
pub const MAX_SERVICE_NAME: usize = 200;
/// Most agencies one malfunction may interrupt.
pub const MAX_AGENCIES: usize = 200;
/// Longest cause or actions text.
pub const MAX_MALFUNCTION_TEXT: usize = 10_000;

/// A malfunction's details as stored on the ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct MalfunctionDetails {
    /// The interrupted services, in the order they were named, without repeats.
    pub affected_services: Vec<String>,
    /// The agencies whose services were interrupted; `notify_agency` writes to their contacts.
    pub affected_agency_ids: Vec<Uuid>,
    pub cause: Option<String>,
    pub actions_taken: Option<String>,
}

impl MalfunctionDetails {
    /// Whether an agent has filled in anything.
    pub fn is_empty(&self) -> bool {
        *self == MalfunctionDetails::default()
    }

    /// Adds `service` unless it is already named.
    pub fn add_service(&mut self, service: &str) {
        let service = service.trim();
        if !service.is_empty() && !self.affected_services.iter().any(|s| s == service) {
            self.affected_services.push(service.to_owned());
        }
    }
}

/// A change to the details. `None` leaves a field as it is; for the texts, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MalfunctionPatch {
    pub affected_services: Option<Vec<String>>,
    pub affected_agency_ids: Option<Vec<Uuid>>,
    pub cause: Option<Option<String>>,
    pub actions_taken: Option<Option<String>>,
}

impl MalfunctionPatch {
    /// Checks every field, naming each invalid one; agency ids are checked against the
    /// database by the caller.
    pub fn check(&self, checker: &mut Checker) {
        if let Some(services) = &self.affected_services {
            check_services(checker, "affected_services", services);
        }
        if let Some(ids) = &self.affected_agency_ids
            && ids.len() > MAX_AGENCIES
        {
            checker.add(
                "affected_agency_ids",
                format!("must name at most {MAX_AGENCIES} agencies"),
            );
        }
        for (field, text) in [
            ("cause", &self.cause),
            ("actions_taken", &self.actions_taken),
        ] {
            if let Some(Some(text)) = text {
                checker.max_chars(field, text, MAX_MALFUNCTION_TEXT);
            }
        }
    }

    /// The details after the change, with texts trimmed (blank means cleared) and lists
    /// without repeats.
    pub fn apply(&self, details: &MalfunctionDetails) -> MalfunctionDetails {
        let mut next = details.clone();
        if let Some(services) = &self.affected_services {
            next.affected_services.clear();
            for service in services {
                next.add_service(service);
            }
        }
        if let Some(ids) = &self.affected_agency_ids {
            next.affected_agency_ids.clear();
            for id in ids {
                if !next.affected_agency_ids.contains(id) {
                    next.affected_agency_ids.push(*id);
                }
            }
        }
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        if let Some(cause) = &self.cause {
            next.cause = text(cause);
        }
        if let Some(actions) = &self.actions_taken {
            next.actions_taken = text(actions);
        }
        next
    }
}

/// The names of the fields that differ between `before` and `after`, in API order.
pub fn changed_fields(
    before: &MalfunctionDetails,
    after: &MalfunctionDetails,
) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if before.affected_services != after.affected_services {
        changed.push("affected_services");
    }
    if before.affected_agency_ids != after.affected_agency_ids {
        changed.push("affected_agency_ids");
    }
    if before.cause != after.cause {
        changed.push("cause");
    }
    if before.actions_taken != after.actions_taken {
        changed.push("actions_taken");
    }
    changed
}

/// Each service named: not blank, not too long; not too many of them.
pub fn check_services(checker: &mut Checker, field: &str, services: &[String]) {
    if services.len() > MAX_SERVICES {
        checker.add(field, format!("must name at most {MAX_SERVICES} services"));
    }
    for (index, service) in services.iter().enumerate() {
        let field = format!("{field}[{index}]");
        checker.required_line(&field, Some(service), MAX_SERVICE_NAME);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_replaces_lists_trims_texts_and_leaves_the_rest() {
        let agency = Uuid::now_v7();
        let before = MalfunctionDetails {
            affected_services: vec!["Portale".into()],
            affected_agency_ids: vec![agency],
            cause: Some("Disco pieno".into()),
            actions_taken: None,
        };
        let patch = MalfunctionPatch {
            affected_services: Some(vec![
                " Pagamenti ".into(),
                "Pagamenti".into(),
                "SUAP".into(),
            ]),
            actions_taken: Some(Some("  Riavvio  ".into())),
            cause: Some(Some("   ".into())),
            ..MalfunctionPatch::default()
        };
        let after = patch.apply(&before);
        assert_eq!(after.affected_services, ["Pagamenti", "SUAP"]);
        assert_eq!(after.affected_agency_ids, [agency]);
        assert_eq!(after.cause, None, "a blank text clears the field");
        assert_eq!(after.actions_taken.as_deref(), Some("Riavvio"));
        assert_eq!(
            changed_fields(&before, &after),
            ["affected_services", "cause", "actions_taken"]
        );
    }

    #[test]
    fn blank_or_too_many_services_are_named_by_index() {
        let mut checker = Checker::new();
        let patch = MalfunctionPatch {
            affected_services: Some(vec!["ok".into(), " ".into()]),
            ..MalfunctionPatch::default()
        };
        patch.check(&mut checker);
        let errors = checker.finish().unwrap_err().0;
        assert_eq!(errors[0].field, "affected_services[1]");
    }
}
