//! The state of the sign-in limits: one theoretical arrival time (GCRA) per limit and key.
//! An upsert is dialect-specific SQL (diesel's `on_conflict` does not span both backends).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConnection;
use crate::db::schema::sign_in_limits;

/// Counts one attempt at `now` (µs) against a limit that lets `burst` through at once and then
/// one every `every` (µs): `None` when it is allowed (and counted), else how many µs to wait.
/// One statement, so attempts arriving together at several instances are counted one by one.
pub fn take(
    conn: &mut DbConnection,
    key: &str,
    now: i64,
    every: i64,
    burst: i64,
) -> QueryResult<Option<i64>> {
    let tolerance = every * (burst - 1);
    let taken = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(
            "INSERT INTO sign_in_limits (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(sign_in_limits.tat, $2) + $3 \
             WHERE GREATEST(sign_in_limits.tat, $2) - $2 <= $4",
        )
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(every)
        .bind::<BigInt, _>(tolerance)
        .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO sign_in_limits (key, tat) VALUES (?1, ?2 + ?3) \
             ON CONFLICT (key) DO UPDATE SET tat = MAX(sign_in_limits.tat, ?2) + ?3 \
             WHERE MAX(sign_in_limits.tat, ?2) - ?2 <= ?4",
        )
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(every)
        .bind::<BigInt, _>(tolerance)
        .execute(c)?,
    };
    // A row written: allowed and counted. None: the existing row's condition refused it.
    if taken == 1 {
        return Ok(None);
    }
    let tat: i64 = sign_in_limits::table
        .find(key)
        .select(sign_in_limits::tat)
        .first(conn)?;
    Ok(Some((tat.max(now) - now - tolerance).max(1)))
}

/// Forgets keys that are back to their full allowance (their arrival time has passed).
pub fn forget_spent(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(sign_in_limits::table.filter(sign_in_limits::tat.lt(now))).execute(conn)
}

/// How many keys are held, for tests and metrics.
pub fn held(conn: &mut DbConnection) -> QueryResult<i64> {
    sign_in_limits::table.count().get_result(conn)
}
