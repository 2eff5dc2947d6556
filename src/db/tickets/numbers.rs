//! Per-year ticket numbers, gap-free: tickets are inserted with a placeholder and numbered
//! together at the end of their transaction, taking a block from the year's counter row. The
//! row stays locked until commit, so numbers are unique across instances; a rolled-back
//! transaction returns its block, so no number is ever skipped. Numbering last keeps the lock
//! short: the inserts run before it, in parallel with other transactions.

use crate::db::schema::ticket_counters;
use crate::db::{DbConnection, StoreError, is_unique_violation};
use crate::domain::numbering::{format_ticket_number, numbering_year};
use crate::domain::ticket::Ticket;
use diesel::prelude::*;
use diesel::sql_types::Text;

/// The placeholder a ticket carries until it is numbered (unique, and never a real number).
pub fn placeholder_number(ticket_id: uuid::Uuid) -> String {
    format!("pending-{ticket_id}")
}

/// Numbers `tickets` (in the order given, per year) and stores the numbers.
pub fn number_tickets(
    conn: &mut DbConnection,
    tickets: &mut [&mut Ticket],
) -> Result<(), StoreError> {
    let mut years: Vec<i32> = tickets
        .iter()
        .map(|t| numbering_year(t.reported_at))
        .collect();
    years.sort_unstable();
    years.dedup();
    for year in years {
        let mut of_year: Vec<&mut &mut Ticket> = tickets
            .iter_mut()
            .filter(|t| numbering_year(t.reported_at) == year)
            .collect();
        let last = take_numbers(conn, year, of_year.len() as i64)?;
        let first = last - of_year.len() as i64 + 1;
        for (offset, ticket) in of_year.iter_mut().enumerate() {
            ticket.number = format_ticket_number(year, first + offset as i64);
        }
        store_numbers(conn, &of_year)?;
    }
    Ok(())
}

/// Takes `count` numbers of `year`; returns the last one taken.
fn take_numbers(conn: &mut DbConnection, year: i32, count: i64) -> Result<i64, StoreError> {
    let bump = |conn: &mut DbConnection| {
        diesel::update(ticket_counters::table.find(year))
            .set(ticket_counters::last_number.eq(ticket_counters::last_number + count))
            .returning(ticket_counters::last_number)
            .get_result::<i64>(conn)
            .optional()
    };
    if let Some(last) = bump(conn)? {
        return Ok(last);
    }
    // The year's first tickets. A concurrent first insert wins the race; the savepoint keeps
    // our transaction usable on PostgreSQL, and the bump then takes the next block.
    let first = conn.transaction(|conn| {
        diesel::insert_into(ticket_counters::table)
            .values((
                ticket_counters::year.eq(year),
                ticket_counters::last_number.eq(count),
            ))
            .execute(conn)
    });
    match first {
        Ok(_) => Ok(count),
        Err(e) if is_unique_violation(&e) => bump(conn)?.ok_or(StoreError::Corrupt(format!(
            "ticket counter of {year} vanished"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// One statement for all: `UPDATE … FROM (VALUES …)` reads the same on both backends (the
/// VALUES columns are `column1`, `column2` on each).
fn store_numbers(conn: &mut DbConnection, tickets: &[&mut &mut Ticket]) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE tickets SET number = numbered.column2 FROM (VALUES {}) AS numbered \
         WHERE tickets.id = numbered.column1",
        crate::db::values_list(conn, tickets.len(), 2)
    );
    let mut query = diesel::sql_query(sql).into_boxed();
    for ticket in tickets {
        query = query
            .bind::<Text, _>(ticket.id.to_string())
            .bind::<Text, _>(ticket.number.clone());
    }
    let updated = query.execute(conn)?;
    if updated != tickets.len() {
        return Err(StoreError::Corrupt(format!(
            "numbered {updated} of {} tickets",
            tickets.len()
        )));
    }
    Ok(())
}
