//! Leases on background work that one instance at a time should do: a row per job naming
//! its holder until an instant. A holder renews it while it works; another takes it over
//! only once it has expired (its holder died or hung).

use super::schema::job_leases;
use super::{DbConnection, StoreError, is_unique_violation, to_db_time};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

/// Takes (or renews) the lease `name` for `holder` until `now + ttl`; `false` when another
/// holder's lease has not expired.
pub fn claim_lease(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let until = to_db_time(now + ttl);
    let taken = super::write_transaction(conn, |conn| {
        diesel::update(
            job_leases::table.find(name).filter(
                job_leases::holder
                    .eq(holder)
                    .or(job_leases::expires_at.lt(to_db_time(now))),
            ),
        )
        .set((
            job_leases::holder.eq(holder),
            job_leases::expires_at.eq(until),
        ))
        .execute(conn)
    })?;
    if taken == 1 {
        return Ok(true);
    }
    let inserted = super::write_transaction(conn, |conn| {
        diesel::insert_into(job_leases::table)
            .values((
                job_leases::name.eq(name),
                job_leases::holder.eq(holder),
                job_leases::expires_at.eq(until),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Gives the lease up, if `holder` holds it.
pub fn release_lease(conn: &mut DbConnection, name: &str, holder: &str) -> Result<(), StoreError> {
    super::write_transaction(conn, |conn| {
        diesel::delete(
            job_leases::table
                .find(name)
                .filter(job_leases::holder.eq(holder)),
        )
        .execute(conn)
    })?;
    Ok(())
}
