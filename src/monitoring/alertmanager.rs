//! Prometheus Alertmanager's webhook payload (version 4) read into alerts: a firing alert
//! begins `down` at its `startsAt`, a resolved one begins `up` at its `endsAt`; its identity is
//! (`fingerprint`, `startsAt`), so the copies an HA pair or a retry sends collapse. Pure.
//! Fields the payload carries besides those read here are left alone (Alertmanager adds some
//! over versions); a missing or malformed field read here is named.

use crate::domain::FieldError;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One alert of the payload.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAlert {
    pub fingerprint: String,
    pub starts_at: DateTime<Utc>,
    /// `Some` for a resolved alert.
    pub ends_at: Option<DateTime<Utc>>,
    /// The value of the system label, if the alert has it.
    pub system: Option<String>,
}

fn instant(value: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<DateTime<Utc>> {
    match value.as_str().map(DateTime::parse_from_rfc3339) {
        Some(Ok(at)) => Some(at.with_timezone(&Utc)),
        _ => {
            errors.push(FieldError::new(field, "must be an RFC 3339 instant"));
            None
        }
    }
}

/// Alertmanager's "no end": Go's zero time.
fn is_zero_time(at: DateTime<Utc>) -> bool {
    at.timestamp() <= -62_135_596_800
}

/// Reads the payload; `label` names the label that holds the system's code.
pub fn parse_webhook(body: &Value, label: &str) -> Result<Vec<WebhookAlert>, Vec<FieldError>> {
    let mut errors = Vec::new();
    match body.get("version").and_then(Value::as_str) {
        Some("4") => {}
        _ => errors.push(FieldError::new("version", "must be \"4\"")),
    }
    let Some(alerts) = body.get("alerts").and_then(Value::as_array) else {
        errors.push(FieldError::new("alerts", "must be an array of alerts"));
        return Err(errors);
    };
    let mut parsed = Vec::with_capacity(alerts.len());
    for (i, alert) in alerts.iter().enumerate() {
        let field = |name: &str| format!("alerts[{i}].{name}");
        let fingerprint = match alert.get("fingerprint").and_then(Value::as_str) {
            Some(text) if (1..=200).contains(&text.len()) => Some(text.to_owned()),
            _ => {
                errors.push(FieldError::new(
                    field("fingerprint"),
                    "must be a string of 1 to 200 characters",
                ));
                None
            }
        };
        let resolved = match alert.get("status").and_then(Value::as_str) {
            Some("firing") => Some(false),
            Some("resolved") => Some(true),
            _ => {
                errors.push(FieldError::new(
                    field("status"),
                    "must be \"firing\" or \"resolved\"",
                ));
                None
            }
        };
        let starts_at = instant(
            alert.get("startsAt").unwrap_or(&Value::Null),
            &field("startsAt"),
            &mut errors,
        );
        let ends_at = instant(
            alert.get("endsAt").unwrap_or(&Value::Null),
            &field("endsAt"),
            &mut errors,
        );
        let system = match alert.get("labels") {
            Some(Value::Object(labels)) => labels.get(label).and_then(Value::as_str),
            _ => {
                errors.push(FieldError::new(field("labels"), "must be an object"));
                None
            }
        };
        let (Some(fingerprint), Some(resolved), Some(starts_at), Some(ends_at)) =
            (fingerprint, resolved, starts_at, ends_at)
        else {
            continue;
        };
        let ends_at = match resolved {
            false => None,
            true if is_zero_time(ends_at) || ends_at < starts_at => {
                errors.push(FieldError::new(
                    field("endsAt"),
                    "a resolved alert must end at or after its startsAt",
                ));
                continue;
            }
            true => Some(ends_at),
        };
        parsed.push(WebhookAlert {
            fingerprint,
            starts_at,
            ends_at,
            system: system.map(str::to_owned),
        });
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(alerts: Value) -> Value {
        json!({
            "version": "4", "groupKey": "{}:{alertname=\"HostDown\"}", "truncatedAlerts": 0,
            "status": "firing", "receiver": "helpdesk", "groupLabels": {"alertname": "HostDown"},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "alerts": alerts,
        })
    }

    #[test]
    fn firing_and_resolved_alerts_are_read() {
        let body = payload(json!([
            {"status": "firing", "labels": {"system": "CSDB1", "alertname": "HostDown"},
             "annotations": {}, "startsAt": "2016-03-01T10:00:00.123Z",
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p", "fingerprint": "a1"},
            {"status": "resolved", "labels": {"instance": "x"},
             "annotations": {}, "startsAt": "2016-03-01T10:00:00Z",
             "endsAt": "2016-03-01T11:00:00Z", "generatorURL": "http://p", "fingerprint": "b2"},
        ]));
        let alerts = parse_webhook(&body, "system").unwrap();
        assert_eq!(alerts[0].ends_at, None);
        assert_eq!(alerts[0].system.as_deref(), Some("CSDB1"));
        assert_eq!(
            alerts[1].ends_at,
            Some("2016-03-01T11:00:00Z".parse().unwrap())
        );
        assert_eq!(alerts[1].system, None);
    }

    #[test]
    fn a_malformed_alert_is_named() {
        let body = payload(
            json!([{"status": "firing", "labels": {}, "startsAt": "ieri",
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "a1"}]),
        );
        let errors = parse_webhook(&body, "system").unwrap_err();
        assert_eq!(errors[0].field, "alerts[0].startsAt");
        let errors = parse_webhook(&json!({"version": "3", "alerts": []}), "system").unwrap_err();
        assert_eq!(errors[0].field, "version");
    }
}
