//! Response-time SLAs (SLA.3): a statistic of the check results of a period that carry a
//! response time. Pure: the samples, the period and `now` are arguments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which figure of the samples the SLA compares with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    #[default]
    Max,
    P95,
    P99,
    Mean,
}

impl Statistic {
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Max => "max",
            Statistic::P95 => "p95",
            Statistic::P99 => "p99",
            Statistic::Mean => "mean",
        }
    }
}

/// One check result's response time, for one system at the monitor's time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseSample<'a> {
    pub system: &'a str,
    pub at: DateTime<Utc>,
    pub response_ms: f64,
}

/// What the samples of a period give.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseFigures {
    /// Distinct samples (one per system and instant) in the period.
    pub samples: i64,
    /// The statistic, in milliseconds; `None` without samples.
    pub measured_ms: Option<f64>,
}

impl ResponseFigures {
    /// (expected − measured) / expected, in percent: positive is better.
    pub fn deviation_percent(&self, expected_ms: f64) -> Option<f64> {
        self.measured_ms
            .filter(|_| expected_ms > 0.0)
            .map(|measured| (expected_ms - measured) / expected_ms * 100.0)
    }
}

/// The nearest-rank percentile `p` (0 < p ≤ 1) of `sorted` values: the value at rank
/// ⌈p·n⌉. The compliance table's percentiles of elapsed times use the same rule.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    rank_of(sorted.len(), p).map(|rank| sorted[rank - 1])
}

/// The nearest rank ⌈p·n⌉ (1-based, within 1..=n) of the percentile `p` of `n` values;
/// `None` for none. The database computes SLA.3's percentiles at this rank too.
pub fn rank_of(n: usize, p: f64) -> Option<usize> {
    (n > 0).then(|| ((p * n as f64).ceil() as usize).clamp(1, n))
}

impl Statistic {
    /// The percentile a `p95`/`p99` statistic reads (`None` for `max` and `mean`).
    pub fn percentile(self) -> Option<f64> {
        match self {
            Statistic::P95 => Some(0.95),
            Statistic::P99 => Some(0.99),
            Statistic::Max | Statistic::Mean => None,
        }
    }
}

/// The statistic over the samples of `[from, to)` up to `now`, of the systems named. A result
/// reported twice (same system and instant) counts once; of two different values for the
/// same system and instant the larger counts, so arrival order changes nothing.
pub fn measure_response_time(
    samples: &[ResponseSample<'_>],
    systems: &[String],
    statistic: Statistic,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ResponseFigures {
    let to = to.min(now);
    let mut kept: Vec<(&str, DateTime<Utc>, f64)> = samples
        .iter()
        .filter(|s| s.at >= from && s.at < to && s.response_ms.is_finite())
        .filter(|s| systems.iter().any(|system| system == s.system))
        .map(|s| (s.system, s.at, s.response_ms))
        .collect();
    kept.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
    // After the sort the largest value of a (system, instant) is the last of its run.
    let mut values: Vec<f64> = Vec::with_capacity(kept.len());
    for (i, sample) in kept.iter().enumerate() {
        let last_of_run = kept
            .get(i + 1)
            .is_none_or(|next| (next.0, next.1) != (sample.0, sample.1));
        if last_of_run {
            values.push(sample.2);
        }
    }
    statistic_of(values, statistic)
}

/// The statistic of response times already distinct per system and instant (as stored).
pub fn statistic_of(mut values: Vec<f64>, statistic: Statistic) -> ResponseFigures {
    values.retain(|v| v.is_finite());
    values.sort_unstable_by(f64::total_cmp);
    let measured_ms = match statistic {
        Statistic::Max => values.last().copied(),
        Statistic::P95 | Statistic::P99 => {
            nearest_rank(&values, statistic.percentile().unwrap_or(1.0))
        }
        Statistic::Mean => {
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        }
    };
    ResponseFigures {
        samples: values.len() as i64,
        measured_ms,
    }
}
