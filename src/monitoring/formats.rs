//! The words and numbers monitors send: states in Nagios/Icinga/Checkmk/Zabbix words or ours,
//! state types, instants as RFC 3339 or epoch seconds (as Nagios macros give them), and the
//! response time inside Nagios perfdata. Pure.

use crate::sla::availability::HealthState;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A state in the monitor's words (`OK`, `WARNING`, `CRITICAL`, `UNKNOWN`, `UP`, `DOWN`,
/// `UNREACHABLE`) or ours (`up`, `down`, `unknown`), in any case. WARNING is up: the service
/// still answers.
pub fn parse_state(word: &str) -> Option<HealthState> {
    match word.trim().to_ascii_uppercase().as_str() {
        "UP" | "OK" | "WARNING" => Some(HealthState::Up),
        "DOWN" | "CRITICAL" => Some(HealthState::Down),
        "UNKNOWN" | "UNREACHABLE" => Some(HealthState::Unknown),
        _ => None,
    }
}

/// The words `parse_state` takes, for error messages and the API description.
pub const STATE_WORDS: &str =
    "up, down, unknown, OK, WARNING, CRITICAL, UNKNOWN, UP, DOWN or UNREACHABLE";

/// `hard` (true) or `soft` (false), in any case (`$SERVICESTATETYPE$` gives `HARD`).
pub fn parse_state_type(word: &str) -> Option<bool> {
    match word.trim().to_ascii_lowercase().as_str() {
        "hard" => Some(true),
        "soft" => Some(false),
        _ => None,
    }
}

/// An instant: an RFC 3339 string, or epoch seconds as a number or a string of digits
/// (`$LASTSERVICESTATECHANGE$`). Between 1970 and 9999, never a leap second.
pub fn parse_monitor_time(value: &Value) -> Result<DateTime<Utc>, String> {
    let epoch = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .filter(|at| at.timestamp() >= 0 && at.timestamp() < 253_402_300_800)
            .ok_or_else(|| format!("epoch seconds {seconds} are out of range"))
    };
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(seconds) => epoch(seconds),
            None => match number.as_f64() {
                Some(seconds) if seconds.is_finite() && seconds >= 0.0 => {
                    let micros = (seconds * 1e6).round() as i64;
                    DateTime::from_timestamp_micros(micros)
                        .filter(|at| at.timestamp() < 253_402_300_800)
                        .ok_or_else(|| format!("epoch seconds {seconds} are out of range"))
                }
                _ => Err("must be epoch seconds of 1970 or later".into()),
            },
        },
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            epoch(text.parse().map_err(|_| "too many digits".to_owned())?)
        }
        Value::String(text) => {
            crate::domain::time::parse_instant(text).map_err(|error| error.to_string())
        }
        _ => Err("must be an RFC 3339 instant or epoch seconds".into()),
    }
}

/// A problem id (`$SERVICEPROBLEMID$`): a string or a number, kept as text; `0` and empty
/// (Nagios's "no problem") are none.
pub fn parse_problem_id(value: &Value) -> Result<Option<String>, String> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.trim().to_owned(),
        _ => return Err("must be a string or a number".into()),
    };
    if text.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    Ok((!text.is_empty() && text != "0").then_some(text))
}

/// The response time, in milliseconds, of Nagios perfdata such as
/// `time=0.007123s;;;0.000000;10.000000 size=1234B;;;0` (the `time` label; `s`, `ms` or
/// `us`; no unit is seconds, as check_http writes it).
pub fn perfdata_response_ms(perfdata: &str) -> Result<f64, String> {
    for metric in perfdata.split_whitespace() {
        let Some((label, rest)) = metric.split_once('=') else {
            continue;
        };
        if !label.trim_matches('\'').eq_ignore_ascii_case("time") {
            continue;
        }
        let value = rest.split(';').next().unwrap_or_default();
        let split = value
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(value.len());
        let (number, unit) = value.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("`{metric}`: the time is not a number"))?;
        let factor = match unit {
            "" | "s" => 1000.0,
            "ms" => 1.0,
            "us" => 0.001,
            other => return Err(format!("`{metric}`: unit `{other}` is not s, ms or us")),
        };
        let ms = number * factor;
        if !(ms.is_finite() && ms >= 0.0) {
            return Err(format!("`{metric}`: the time must be 0 or more"));
        }
        return Ok(ms);
    }
    Err("has no `time=` metric".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn monitor_words_become_our_states() {
        for (word, state) in [
            ("OK", HealthState::Up),
            ("warning", HealthState::Up),
            ("UP", HealthState::Up),
            ("CRITICAL", HealthState::Down),
            ("down", HealthState::Down),
            ("UNREACHABLE", HealthState::Unknown),
            ("UNKNOWN", HealthState::Unknown),
        ] {
            assert_eq!(parse_state(word), Some(state), "{word}");
        }
        assert_eq!(parse_state("PENDING"), None);
        assert_eq!(parse_state_type("HARD"), Some(true));
        assert_eq!(parse_state_type("SOFT"), Some(false));
    }

    #[test]
    fn times_come_as_rfc_3339_or_epoch_seconds() {
        let expected: DateTime<Utc> = "2016-06-23T15:30:00Z".parse().unwrap();
        assert_eq!(parse_monitor_time(&json!(1466695800)), Ok(expected));
        assert_eq!(parse_monitor_time(&json!("1466695800")), Ok(expected));
        assert_eq!(
            parse_monitor_time(&json!("2016-06-23T17:30:00+02:00")),
            Ok(expected)
        );
        assert!(parse_monitor_time(&json!(-5)).is_err());
        assert!(parse_monitor_time(&json!("ieri")).is_err());
        assert!(parse_monitor_time(&json!(true)).is_err());
    }

    #[test]
    fn perfdata_gives_the_time_in_milliseconds() {
        let ms = perfdata_response_ms("time=0.007123s;;;0.000000;10.000000 size=1234B;;;0");
        assert!((ms.unwrap() - 7.123).abs() < 1e-9);
        assert_eq!(perfdata_response_ms("size=1B time=7ms"), Ok(7.0));
        assert!(perfdata_response_ms("size=1234B;;;0").is_err());
        assert!(perfdata_response_ms("time=abc").is_err());
        assert_eq!(parse_problem_id(&json!(0)), Ok(None));
        assert_eq!(parse_problem_id(&json!(412)), Ok(Some("412".into())));
    }
}
