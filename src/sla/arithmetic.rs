//! Deadline and elapsed business time, exact to the microsecond, by interval arithmetic
//! over the year tables: never a step per minute or per day.

use super::calendar::{Calendar, CalendarError};
use chrono::{DateTime, Utc};

const MICROS: i64 = 1_000_000;

/// One stretch of business time counted towards a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedSpan {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub seconds: i64,
}

fn to_instant(micros: i64) -> Result<DateTime<Utc>, CalendarError> {
    DateTime::from_timestamp_micros(micros).ok_or(CalendarError::OutOfRange)
}

impl Calendar {
    /// The earliest instant t ≥ `start` at which `seconds` of business time have elapsed
    /// since `start`. A start outside hours counts from the next opening; a duration that
    /// runs out exactly at closing gives the closing time. Zero gives `start`.
    pub fn deadline(
        &self,
        start: DateTime<Utc>,
        seconds: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let start = start.timestamp_micros();
        let duration = seconds
            .max(0)
            .checked_mul(MICROS)
            .ok_or(CalendarError::OutOfRange)?;
        to_instant(self.deadline_micros(start, duration)?)
    }

    pub(crate) fn deadline_micros(&self, start: i64, duration: i64) -> Result<i64, CalendarError> {
        if duration == 0 {
            return Ok(start);
        }
        if self.always_open {
            const END_OF_9999: i64 = 253_402_300_799_999_999;
            return start
                .checked_add(duration)
                .filter(|end| *end <= END_OF_9999)
                .ok_or(CalendarError::OutOfRange);
        }
        let (mut year, mut table) = self.year_of(start)?;
        let mut target = table.before(start) + duration;
        while target > table.total {
            target -= table.total;
            year += 1;
            table = self.year(year)?;
        }
        Ok(table.instant_at(target))
    }

    /// Business seconds in `[from, to]` (whole seconds, truncated); negative when `to` is
    /// before `from`.
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64, CalendarError> {
        Ok(self.elapsed_micros(from.timestamp_micros(), to.timestamp_micros())? / MICROS)
    }

    pub(crate) fn elapsed_micros(&self, from: i64, to: i64) -> Result<i64, CalendarError> {
        if from > to {
            return Ok(-self.elapsed_micros(to, from)?);
        }
        if self.always_open {
            return Ok(to - from);
        }
        let (from_year, from_table) = self.year_of(from)?;
        let (to_year, to_table) = self.year_of(to)?;
        if from_year == to_year {
            return Ok(to_table.before(to) - from_table.before(from));
        }
        let mut total = from_table.total - from_table.before(from) + to_table.before(to);
        for year in from_year + 1..to_year {
            total += self.year(year)?.total;
        }
        Ok(total)
    }

    /// The business intervals counted from `start` until `deadline(start, seconds)`, so that a
    /// person can see why the deadline is what it is.
    pub fn explain(
        &self,
        start: DateTime<Utc>,
        seconds: i64,
    ) -> Result<Vec<CountedSpan>, CalendarError> {
        let deadline = self.deadline(start, seconds)?.timestamp_micros();
        let start = start.timestamp_micros();
        let mut spans = Vec::new();
        if self.always_open || deadline == start {
            if deadline > start {
                spans.push(span(start, deadline)?);
            }
            return Ok(spans);
        }
        let (mut year, mut table) = self.year_of(start)?;
        let mut i = table.first_ending_after(start);
        loop {
            if i >= table.starts.len() {
                year += 1;
                table = self.year(year)?;
                i = 0;
                continue;
            }
            let (open, close) = table.interval(i);
            if open >= deadline {
                return Ok(spans);
            }
            spans.push(span(open.max(start), close.min(deadline))?);
            if close >= deadline {
                return Ok(spans);
            }
            i += 1;
        }
    }
}

fn span(from: i64, to: i64) -> Result<CountedSpan, CalendarError> {
    Ok(CountedSpan {
        from: to_instant(from)?,
        to: to_instant(to)?,
        seconds: (to - from) / MICROS,
    })
}
