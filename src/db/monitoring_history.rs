//! Reading the monitor's history of a system for a period: the hard states that decide the
//! period (from the last change before it to the first change after it, so that the flap
//! filter sees each stretch whole), the alerts that overlap them, the maintenance windows,
//! and the response times of the period.

use super::schema::{check_results, monitor_alerts, monitor_state_changes};
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::sla::availability::{HealthState, StateReport, SystemHistory, Window};
use crate::sla::response_time::{ResponseFigures, Statistic, rank_of};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

fn health(text: &str) -> Result<HealthState, StoreError> {
    match text {
        "up" => Ok(HealthState::Up),
        "down" => Ok(HealthState::Down),
        "unknown" => Ok(HealthState::Unknown),
        other => Err(StoreError::Corrupt(format!(
            "monitor_state_changes.state `{other}`"
        ))),
    }
}

/// The change that began the stretch in force at `from` (the last change before it).
fn stretch_in_force(
    conn: &mut DbConnection,
    system: &str,
    from: NaiveDateTime,
) -> Result<Option<(NaiveDateTime, String)>, StoreError> {
    Ok(monitor_state_changes::table
        .filter(monitor_state_changes::system.eq(system.to_owned()))
        .filter(monitor_state_changes::at.lt(from))
        .order(monitor_state_changes::at.desc())
        .select((monitor_state_changes::at, monitor_state_changes::state))
        .first(conn)
        .optional()?)
}

/// The first change at or after `to`: the end of the stretch in force at `to`.
fn upper_bound(
    conn: &mut DbConnection,
    system: &str,
    to: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(monitor_state_changes::table
        .filter(monitor_state_changes::system.eq(system.to_owned()))
        .filter(monitor_state_changes::at.ge(to))
        .select(diesel::dsl::min(monitor_state_changes::at))
        .first(conn)?)
}

/// The changes of `system` in `[from, upper]`.
fn state_changes(
    conn: &mut DbConnection,
    system: &str,
    from: NaiveDateTime,
    upper: Option<NaiveDateTime>,
) -> Result<Vec<StateReport>, StoreError> {
    let mut query = monitor_state_changes::table
        .filter(monitor_state_changes::system.eq(system.to_owned()))
        .filter(monitor_state_changes::at.ge(from))
        .into_boxed();
    if let Some(upper) = upper {
        query = query.filter(monitor_state_changes::at.le(upper));
    }
    query
        .order(monitor_state_changes::at)
        .select((monitor_state_changes::at, monitor_state_changes::state))
        .load::<(NaiveDateTime, String)>(conn)?
        .into_iter()
        .map(|(at, state)| {
            Ok(StateReport {
                at: from_db_time(at),
                state: health(&state)?,
                hard: true,
            })
        })
        .collect()
}

/// What decides `system`'s figures over `[from, to)`: its hard states around the period,
/// its alerts as states (down from `startsAt`, up from `endsAt`, overlapping alerts joined),
/// and its maintenance windows.
pub fn load_history(
    conn: &mut DbConnection,
    system: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<SystemHistory, StoreError> {
    let (from_db, to_db) = (to_db_time(from), to_db_time(to));
    // The stretch in force at `from` as one state at its beginning, then the changes from
    // `from` to the first change after `to`.
    let in_force = stretch_in_force(conn, system, from_db)?;
    let lower = in_force.as_ref().map(|(began, _)| *began);
    let upper = upper_bound(conn, system, to_db)?;
    let mut states = Vec::new();
    if let Some((began, state)) = &in_force {
        states.push(StateReport {
            at: from_db_time(*began),
            state: health(state)?,
            hard: true,
        });
    }
    states.extend(state_changes(conn, system, from_db, upper)?);
    states.extend(alert_states(conn, system, lower, upper)?);
    let maintenance = super::monitoring::list_downtimes(conn, Some(system), Some(from), Some(to))?
        .into_iter()
        .map(|d| Window {
            start: d.start,
            end: d.end,
        })
        .collect();
    Ok(SystemHistory {
        states,
        maintenance,
    })
}

/// The system's alerts overlapping `[lower, upper]`, as states: the union of their
/// intervals is down, each end of that union up again.
fn alert_states(
    conn: &mut DbConnection,
    system: &str,
    lower: Option<NaiveDateTime>,
    upper: Option<NaiveDateTime>,
) -> Result<Vec<StateReport>, StoreError> {
    let mut query = monitor_alerts::table
        .filter(monitor_alerts::system.eq(system.to_owned()))
        .into_boxed();
    if let Some(upper) = upper {
        query = query.filter(monitor_alerts::starts_at.le(upper));
    }
    if let Some(lower) = lower {
        query = query.filter(
            monitor_alerts::ends_at
                .is_null()
                .or(monitor_alerts::ends_at.ge(lower)),
        );
    }
    let mut intervals: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = query
        .select((monitor_alerts::starts_at, monitor_alerts::ends_at))
        .load(conn)?;
    intervals.sort();
    let mut merged: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = Vec::new();
    for (start, end) in intervals {
        match merged.last_mut() {
            Some((_, last_end)) if last_end.is_none_or(|e| start <= e) => {
                *last_end = match (*last_end, end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push((start, end)),
        }
    }
    let report = |at: NaiveDateTime, state| StateReport {
        at: from_db_time(at),
        state,
        hard: true,
    };
    Ok(merged
        .into_iter()
        .flat_map(|(start, end)| {
            std::iter::once(report(start, HealthState::Down))
                .chain(end.map(|end| report(end, HealthState::Up)))
        })
        .collect())
}

/// SLA.3's statistic of the response times of `systems` in `[from, to)` (one per system and
/// instant, the key of `check_results`), computed by the database one system at a time, so
/// that each query walks the index `(system, response_ms, at)` in order (an `= ANY` over
/// several systems would lose that order): the count, the maximum from the top of the index,
/// and a percentile as the value at its nearest rank (`sla::response_time::rank_of`) counted
/// from the top — among the union of each system's top values of that rank. Only those are
/// read, never a year of them sent over or sorted.
pub fn response_statistic(
    conn: &mut DbConnection,
    systems: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    statistic: Statistic,
) -> Result<ResponseFigures, StoreError> {
    let in_period = |system: &str| {
        check_results::table
            .filter(check_results::system.eq(system.to_owned()))
            .filter(check_results::at.ge(to_db_time(from)))
            .filter(check_results::at.lt(to_db_time(to)))
    };
    let mut counts = Vec::with_capacity(systems.len());
    for system in systems {
        counts.push(in_period(system).count().get_result::<i64>(conn)?);
    }
    let samples: i64 = counts.iter().sum();
    // How many of the largest values to read, from each system: the one sought is the last.
    let from_top = match statistic {
        Statistic::Max => 1,
        Statistic::Mean => 0,
        Statistic::P95 | Statistic::P99 => {
            let p = statistic.percentile().unwrap_or(1.0);
            rank_of(samples as usize, p).map_or(0, |rank| samples - rank as i64 + 1)
        }
    };
    let measured_ms = match statistic {
        _ if samples == 0 => None,
        Statistic::Mean => {
            let mut sum = 0.0;
            for system in systems {
                sum += in_period(system)
                    .select(diesel::dsl::sum(check_results::response_ms))
                    .first::<Option<f64>>(conn)?
                    .unwrap_or(0.0);
            }
            Some(sum / samples as f64)
        }
        _ => {
            let mut largest: Vec<f64> = Vec::new();
            for (system, count) in systems.iter().zip(&counts) {
                largest.extend(
                    in_period(system)
                        .select(check_results::response_ms)
                        .order(check_results::response_ms.desc())
                        .limit(from_top.min(*count))
                        .load::<f64>(conn)?,
                );
            }
            largest.sort_by(|a, b| b.total_cmp(a));
            largest.get(from_top as usize - 1).copied()
        }
    };
    Ok(ResponseFigures {
        samples,
        measured_ms,
    })
}
