//! Business calendars: a time zone, a weekly schedule with any number of intervals per day,
//! holiday rules and one-off closures. The business time of each local year is laid out once
//! as UTC intervals with running totals (`YearTable`), so that deadline and elapsed are two
//! binary searches, whatever the target's size.

use super::holidays::{Holidays, italian_national_holidays, patron_saint};
use bdays::HolidayCalendar;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub const SECONDS_PER_DAY: u32 = 86_400;
/// The years the engine answers for; outside them it reports `OutOfRange`.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2400;

/// Opening hours within one day, as seconds after local midnight: `[open, close)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayInterval {
    pub open: u32,
    /// At most 86,400 (24:00).
    pub close: u32,
}

impl DayInterval {
    /// From "HH:MM" style hours and minutes.
    pub fn hm(open_hour: u32, open_minute: u32, close_hour: u32, close_minute: u32) -> Self {
        DayInterval {
            open: open_hour * 3600 + open_minute * 60,
            close: close_hour * 3600 + close_minute * 60,
        }
    }
}

/// Opening hours for each weekday, Monday first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklySchedule {
    pub days: [Vec<DayInterval>; 7],
}

impl WeeklySchedule {
    /// The same intervals Monday to Friday, closed at the weekend.
    pub fn weekdays(intervals: &[DayInterval]) -> WeeklySchedule {
        let mut week = WeeklySchedule::default();
        for day in &mut week.days[..5] {
            *day = intervals.to_vec();
        }
        week
    }
}

/// A one-off closure: whole local days from `first` to `last`, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub reason: String,
}

/// Why a calendar or a computation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("day {day}: interval {open}–{close} is empty, overlaps another or passes 24:00")]
    BadInterval { day: usize, open: u32, close: u32 },
    #[error("the calendar is never open")]
    NeverOpen,
    #[error("closure from {0} to {1} ends before it starts")]
    BadClosure(NaiveDate, NaiveDate),
    #[error("outside the years {FIRST_YEAR}–{LAST_YEAR} the engine answers for")]
    OutOfRange,
}

/// A business calendar. Cheap to share; its year tables are built on first use.
#[derive(Debug)]
pub struct Calendar {
    pub name: String,
    pub time_zone: Tz,
    pub week: WeeklySchedule,
    pub holidays: Holidays,
    pub closures: Vec<Closure>,
    /// Every second counts (the `24x7` calendar): no tables needed.
    pub always_open: bool,
    years: RwLock<HashMap<i32, Arc<YearTable>>>,
}

impl Clone for Calendar {
    fn clone(&self) -> Calendar {
        Calendar {
            name: self.name.clone(),
            time_zone: self.time_zone,
            week: self.week.clone(),
            holidays: self.holidays.clone(),
            closures: self.closures.clone(),
            always_open: self.always_open,
            years: RwLock::default(),
        }
    }
}

impl Calendar {
    /// Checks the schedule (sorted, non-overlapping, within the day) and the closures.
    pub fn new(
        name: &str,
        time_zone: Tz,
        mut week: WeeklySchedule,
        holidays: Holidays,
        closures: Vec<Closure>,
    ) -> Result<Calendar, CalendarError> {
        for (day, intervals) in week.days.iter_mut().enumerate() {
            intervals.sort_by_key(|interval| interval.open);
            let mut previous_close = 0;
            for &DayInterval { open, close } in intervals.iter() {
                if open >= close || close > SECONDS_PER_DAY || open < previous_close {
                    return Err(CalendarError::BadInterval { day, open, close });
                }
                previous_close = close;
            }
        }
        if week.days.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen);
        }
        if let Some(bad) = closures.iter().find(|c| c.last < c.first) {
            return Err(CalendarError::BadClosure(bad.first, bad.last));
        }
        Ok(Calendar {
            name: name.to_owned(),
            time_zone,
            week,
            holidays,
            closures,
            always_open: false,
            years: RwLock::default(),
        })
    }

    /// The centre's calendar: Europe/Rome, Monday–Friday 08:00–18:00, Italian national
    /// holidays and San Giovanni (24 June, patron of Florence).
    pub fn italian_default() -> Calendar {
        let mut holidays = Holidays {
            rules: italian_national_holidays(),
        };
        holidays.rules.extend(patron_saint("firenze"));
        Calendar::new(
            "default",
            chrono_tz::Europe::Rome,
            WeeklySchedule::weekdays(&[DayInterval::hm(8, 0, 18, 0)]),
            holidays,
            Vec::new(),
        )
        .expect("the default calendar is valid")
    }

    /// Every second of every day counts.
    pub fn always_open() -> Calendar {
        let mut calendar = Calendar::new(
            "24x7",
            chrono_tz::UTC,
            WeeklySchedule {
                days: std::array::from_fn(|_| vec![DayInterval::hm(0, 0, 24, 0)]),
            },
            Holidays::default(),
            Vec::new(),
        )
        .expect("the 24x7 calendar is valid");
        calendar.always_open = true;
        calendar
    }

    /// The same calendar with other one-off closures (a new cache: tables depend on them).
    pub fn with_closures(&self, closures: Vec<Closure>) -> Result<Calendar, CalendarError> {
        let mut calendar = Calendar::new(
            &self.name,
            self.time_zone,
            self.week.clone(),
            self.holidays.clone(),
            closures,
        )?;
        calendar.always_open = self.always_open && calendar.closures.is_empty();
        Ok(calendar)
    }

    /// The instants a closure's local days cover: `[midnight of first, midnight after last)`.
    pub fn closure_span(&self, closure: &Closure) -> (DateTime<Utc>, DateTime<Utc>) {
        let midnight = |date: NaiveDate| {
            let micros = self.instant_of(date.and_hms_opt(0, 0, 0).expect("midnight"), false);
            DateTime::from_timestamp_micros(micros).expect("a calendar's instants are in range")
        };
        (
            midnight(closure.first),
            midnight(closure.last + Duration::days(1)),
        )
    }

    /// Whether the calendar is closed all day on `date` (holiday or closure).
    pub fn is_closed_day(&self, date: NaiveDate) -> bool {
        self.holidays.is_holiday(date)
            || self
                .closures
                .iter()
                .any(|c| c.first <= date && date <= c.last)
    }

    /// The business intervals of one local date, as UTC instants in microseconds.
    fn intervals_on(&self, date: NaiveDate) -> impl Iterator<Item = (i64, i64)> + '_ {
        let closed = self.is_closed_day(date);
        let weekday = date.weekday().num_days_from_monday() as usize;
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight");
        self.week.days[weekday]
            .iter()
            .filter(move |_| !closed)
            .map(move |interval| {
                let open =
                    self.instant_of(midnight + Duration::seconds(interval.open.into()), false);
                let close =
                    self.instant_of(midnight + Duration::seconds(interval.close.into()), true);
                (open, close)
            })
            .filter(|(open, close)| close > open)
    }

    /// The instant of a local wall-clock time: in a repeated hour the first occurrence opens
    /// and the last closes; in a skipped hour the time maps to the instant the clocks jump.
    fn instant_of(&self, local: NaiveDateTime, closing: bool) -> i64 {
        // chrono-tz lists offset changes only up to 2099. Later years take their offsets from
        // the year of 2072–2099 laid out alike (same 1 January weekday, same leap status),
        // which is how the tz database's own rules extend into the future.
        if local.year() > LAST_TABULATED_YEAR {
            let twin = twin_year(local.year());
            let twin_local = local
                .with_year(twin)
                .expect("a twin year has the same dates");
            let twin_instant = self.tabulated_instant_of(twin_local, closing);
            return twin_instant + (local - twin_local).num_microseconds().expect("in range");
        }
        self.tabulated_instant_of(local, closing)
    }

    fn tabulated_instant_of(&self, local: NaiveDateTime, closing: bool) -> i64 {
        let mut probe = local;
        loop {
            let found = match self.time_zone.from_local_datetime(&probe) {
                chrono::LocalResult::Single(at) => Some(at),
                chrono::LocalResult::Ambiguous(first, last) => {
                    Some(if closing { last } else { first })
                }
                chrono::LocalResult::None => None,
            };
            if let Some(at) = found {
                return at.with_timezone(&Utc).timestamp_micros();
            }
            // Offset changes happen on quarter hours; a gap lasts at most a few hours.
            probe += Duration::minutes(15);
        }
    }

    /// The laid-out business time of local `year`, built once.
    pub(crate) fn year(&self, year: i32) -> Result<Arc<YearTable>, CalendarError> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(CalendarError::OutOfRange);
        }
        if let Some(table) = self.years.read().ok().and_then(|t| t.get(&year).cloned()) {
            return Ok(table);
        }
        let table = Arc::new(self.build_year(year));
        if let Ok(mut years) = self.years.write() {
            years.insert(year, table.clone());
        }
        Ok(table)
    }

    fn build_year(&self, year: i32) -> YearTable {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January");
        let next = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("1 January");
        let mut table = YearTable {
            year_start: self.instant_of(first.and_hms_opt(0, 0, 0).expect("midnight"), false),
            year_end: self.instant_of(next.and_hms_opt(0, 0, 0).expect("midnight"), false),
            ..YearTable::default()
        };
        let mut total = 0;
        for date in first.iter_days().take_while(|d| *d < next) {
            for (open, close) in self.intervals_on(date) {
                table.starts.push(open);
                table.cum_before.push(total);
                total += close - open;
                table.cum_after.push(total);
            }
        }
        table.total = total;
        table
    }

    /// The local year an instant (µs) falls in, with its table.
    pub(crate) fn year_of(&self, micros: i64) -> Result<(i32, Arc<YearTable>), CalendarError> {
        let guess = DateTime::from_timestamp_micros(micros)
            .ok_or(CalendarError::OutOfRange)?
            .year();
        let table = self.year(guess)?;
        if micros < table.year_start {
            Ok((guess - 1, self.year(guess - 1)?))
        } else if micros >= table.year_end {
            Ok((guess + 1, self.year(guess + 1)?))
        } else {
            Ok((guess, table))
        }
    }
}

/// The last year whose offset changes chrono-tz lists.
const LAST_TABULATED_YEAR: i32 = 2099;

/// A year of 2072–2099 with the same calendar layout as `year`.
fn twin_year(year: i32) -> i32 {
    let layout = |y: i32| {
        let first = NaiveDate::from_ymd_opt(y, 1, 1).expect("1 January");
        (first.weekday(), first.leap_year())
    };
    let wanted = layout(year);
    (LAST_TABULATED_YEAR - 27..=LAST_TABULATED_YEAR)
        .find(|&candidate| layout(candidate) == wanted)
        .expect("28 consecutive years without a skipped leap day hold every layout")
}

/// One local year's business intervals in UTC microseconds, with running totals.
#[derive(Debug, Default)]
pub(crate) struct YearTable {
    pub year_start: i64,
    pub year_end: i64,
    pub starts: Vec<i64>,
    /// Business time before interval i.
    pub cum_before: Vec<i64>,
    /// Business time up to the end of interval i.
    pub cum_after: Vec<i64>,
    pub total: i64,
}

impl YearTable {
    fn end(&self, i: usize) -> i64 {
        self.starts[i] + (self.cum_after[i] - self.cum_before[i])
    }

    /// Business time from the year's start to `t`.
    pub fn before(&self, t: i64) -> i64 {
        // The first interval that ends after t; all before it are wholly counted.
        let i = self.starts.partition_point(|&start| start < t);
        // Interval i-1 starts before t and may still be running at t.
        if i > 0 {
            let running = i - 1;
            return self.cum_before[running] + (t.min(self.end(running)) - self.starts[running]);
        }
        0
    }

    /// The earliest instant at which the business time since the year's start reaches
    /// `target` (0 < target ≤ total).
    pub fn instant_at(&self, target: i64) -> i64 {
        let i = self.cum_after.partition_point(|&after| after < target);
        self.starts[i] + (target - self.cum_before[i])
    }

    /// Index of the first interval ending after `t`.
    pub fn first_ending_after(&self, t: i64) -> usize {
        let i = self.starts.partition_point(|&start| start < t);
        if i > 0 && self.end(i - 1) > t {
            i - 1
        } else {
            i
        }
    }

    pub fn interval(&self, i: usize) -> (i64, i64) {
        (self.starts[i], self.end(i))
    }
}
