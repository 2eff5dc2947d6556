//! The status-by-level summary of SPEC §2: tickets per state, at level 1 and level 2.

use crate::db::summary::StatusLevelCount;
use crate::domain::Status;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One state's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusRow {
    pub status: Status,
    #[schema(minimum = 0)]
    pub level_1: i64,
    #[schema(minimum = 0)]
    pub level_2: i64,
    #[schema(minimum = 0)]
    pub total: i64,
}

/// The counts over all states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    #[schema(minimum = 0)]
    pub level_1: i64,
    #[schema(minimum = 0)]
    pub level_2: i64,
    #[schema(minimum = 0)]
    pub total: i64,
}

/// The summary: a row per state that has tickets, in lifecycle order, and the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusByLevel {
    #[schema(max_items = 10)]
    pub rows: Vec<StatusRow>,
    pub totals: Totals,
}

impl StatusByLevel {
    /// Builds the table from the grouped counts. States without tickets are left out, so
    /// `on_hold` appears only when used.
    pub fn from_counts(counts: &[StatusLevelCount]) -> Result<StatusByLevel, String> {
        let mut rows: Vec<StatusRow> = Status::ALL
            .iter()
            .map(|&status| StatusRow {
                status,
                level_1: 0,
                level_2: 0,
                total: 0,
            })
            .collect();
        for count in counts {
            let status: Status = count.status.parse()?;
            let row = rows
                .iter_mut()
                .find(|row| row.status == status)
                .expect("every status has a row");
            match count.level {
                1 => row.level_1 += count.count,
                2 => row.level_2 += count.count,
                other => return Err(format!("unknown level {other}")),
            }
            row.total += count.count;
        }
        rows.retain(|row| row.total > 0);
        let totals = rows.iter().fold(Totals::default(), |sum, row| Totals {
            level_1: sum.level_1 + row.level_1,
            level_2: sum.level_2 + row.level_2,
            total: sum.total + row.total,
        });
        Ok(StatusByLevel { rows, totals })
    }

    /// CSV with a header line and a final `total` line.
    pub fn to_csv(&self) -> String {
        let mut csv = super::spreadsheet::SafeCsv::default();
        let mut write = |record: [&str; 4]| csv.row(record);
        write(["status", "level_1", "level_2", "total"]);
        for row in &self.rows {
            write([
                row.status.as_str(),
                &row.level_1.to_string(),
                &row.level_2.to_string(),
                &row.total.to_string(),
            ]);
        }
        write([
            "total",
            &self.totals.level_1.to_string(),
            &self.totals.level_2.to_string(),
            &self.totals.total.to_string(),
        ]);
        csv.finish()
    }

    /// A plain-text table for people, with the Italian labels of the annual report.
    pub fn to_text(&self) -> String {
        let label = |status: Status| match status {
            Status::New => "nuovo",
            Status::Open => "aperto",
            Status::OnHold => "in attesa",
            Status::Resolved => "risolto",
            Status::ClosedNotInScope => "chiuso non di competenza",
        };
        let mut lines = vec![format!(
            "{:<28} {:>10} {:>10} {:>10}",
            "stato", "livello 1", "livello 2", "totale"
        )];
        for row in &self.rows {
            lines.push(format!(
                "{:<28} {:>10} {:>10} {:>10}",
                label(row.status),
                row.level_1,
                row.level_2,
                row.total
            ));
        }
        lines.push(format!(
            "{:<28} {:>10} {:>10} {:>10}",
            "Totali", self.totals.level_1, self.totals.level_2, self.totals.total
        ));
        lines.join("\n") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(status: &str, level: i32, count: i64) -> StatusLevelCount {
        StatusLevelCount {
            status: status.into(),
            level,
            count,
        }
    }

    #[test]
    fn the_2016_table_adds_up_and_renders_as_csv() {
        let summary = StatusByLevel::from_counts(&[
            count("open", 2, 2),
            count("closed_not_in_scope", 1, 304),
            count("closed_not_in_scope", 2, 59),
            count("new", 2, 1),
            count("resolved", 1, 2383),
            count("resolved", 2, 2039),
        ])
        .unwrap();
        assert_eq!(
            summary.totals,
            Totals {
                level_1: 2687,
                level_2: 2101,
                total: 4788
            }
        );
        assert_eq!(
            summary.to_csv(),
            "status,level_1,level_2,total\nnew,0,1,1\nopen,0,2,2\nresolved,2383,2039,4422\n\
             closed_not_in_scope,304,59,363\ntotal,2687,2101,4788\n"
        );
        assert!(summary.to_text().contains("Totali"));
    }
}
