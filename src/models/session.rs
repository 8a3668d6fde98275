use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::sessions;

/// A server-side session. `key_hash` is the blake3 hash of the cookie's value, so the table
/// alone does not let anyone sign in as anyone.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub key_hash: &'a [u8],
    pub user_id: Option<UserId>,
    pub state: &'a str,
    pub expires_at: NaiveDateTime,
}

pub struct Session;

impl Session {
    pub fn load_state(
        conn: &mut DbConnection,
        key_hash: &[u8],
        now: NaiveDateTime,
    ) -> QueryResult<Option<String>> {
        sessions::table
            .filter(sessions::key_hash.eq(key_hash))
            .filter(sessions::expires_at.gt(now))
            .select(sessions::state)
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut DbConnection, new: &NewSession<'_>) -> QueryResult<usize> {
        diesel::insert_into(sessions::table)
            .values(new)
            .execute(conn)
    }

    /// Replaces a live session's state; returns 0 when the session is gone or expired.
    pub fn update_state(
        conn: &mut DbConnection,
        key_hash: &[u8],
        user_id: Option<UserId>,
        state: &str,
        expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            sessions::table
                .filter(sessions::key_hash.eq(key_hash))
                .filter(sessions::expires_at.gt(now)),
        )
        .set((
            sessions::user_id.eq(user_id),
            sessions::state.eq(state),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
    }

    /// Pushes the expiry forward (the idle timeout). Skips the write when the stored expiry is
    /// less than `slack` behind, so browsing does not write on every request. It looks before
    /// it writes: on SQLite even an UPDATE that changes nothing takes the one write lock, and
    /// page views queued behind each other's locks wait in the busy handler's sleeps.
    pub fn extend(
        conn: &mut DbConnection,
        key_hash: &[u8],
        expires_at: NaiveDateTime,
        slack: chrono::Duration,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        let stored: Option<NaiveDateTime> = sessions::table
            .filter(sessions::key_hash.eq(key_hash))
            .select(sessions::expires_at)
            .first(conn)
            .optional()?;
        if !stored.is_some_and(|stored| stored > now && stored < expires_at - slack) {
            return Ok(0);
        }
        diesel::update(
            sessions::table
                .filter(sessions::key_hash.eq(key_hash))
                .filter(sessions::expires_at.gt(now))
                .filter(sessions::expires_at.lt(expires_at - slack)),
        )
        .set(sessions::expires_at.eq(expires_at))
        .execute(conn)
    }

    pub fn delete(conn: &mut DbConnection, key_hash: &[u8]) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::key_hash.eq(key_hash))).execute(conn)
    }

    /// Ends every session of the user, on every instance: sign out everywhere.
    pub fn delete_for_user(conn: &mut DbConnection, user: UserId) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(conn)
    }

    pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
    }
}
