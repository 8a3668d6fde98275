//! How each key is used: requests a day by outcome (`key_usage`), and where a key that stopped
//! working is still sent (`stale_key_uses`, one row per key). Both are written in batches by
//! an upsert that adds, so several instances' counts add up.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::api_key::ApiKeyRow;
use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::{api_keys, key_usage, stale_key_uses};

super::text_enum! {
    /// How a request carried its key.
    SentAs { Header = "header", Bearer = "bearer", Link = "link" }
}

impl SentAs {
    /// How a person reads it: "as a link parameter (api_key)".
    pub fn words(self) -> &'static str {
        match self {
            SentAs::Header => "in the X-Api-Key header",
            SentAs::Bearer => "as Authorization: Bearer",
            SentAs::Link => "as a link parameter (api_key)",
        }
    }
}

/// One key's requests on one day, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = key_usage)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DayCounts {
    pub succeeded: i64,
    pub refused: i64,
    pub client_errors: i64,
    pub throttled: i64,
}

impl DayCounts {
    pub fn add(&mut self, other: &DayCounts) {
        self.succeeded += other.succeeded;
        self.refused += other.refused;
        self.client_errors += other.client_errors;
        self.throttled += other.throttled;
    }
}

/// Adds `counts` to the key's day: one statement, however many instances add at once.
pub fn add_day(
    conn: &mut DbConnection,
    key: i64,
    day: NaiveDate,
    counts: &DayCounts,
) -> QueryResult<()> {
    let row = (key_usage::key_id.eq(key), key_usage::day.eq(day), counts);
    crate::on_backend!(conn, |c| diesel::insert_into(key_usage::table)
        .values(row)
        .on_conflict((key_usage::key_id, key_usage::day))
        .do_update()
        .set((
            key_usage::succeeded.eq(key_usage::succeeded + excluded(key_usage::succeeded)),
            key_usage::refused.eq(key_usage::refused + excluded(key_usage::refused)),
            key_usage::client_errors
                .eq(key_usage::client_errors + excluded(key_usage::client_errors)),
            key_usage::throttled.eq(key_usage::throttled + excluded(key_usage::throttled)),
        ))
        .execute(c))
    .map(drop)
}

/// The key's days from `since` on, oldest first (days without requests have no row).
pub fn days_of(
    conn: &mut DbConnection,
    key: i64,
    since: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, DayCounts)>> {
    key_usage::table
        .filter(key_usage::key_id.eq(key))
        .filter(key_usage::day.ge(since))
        .order(key_usage::day.asc())
        .select((key_usage::day, DayCounts::as_select()))
        .load(conn)
}

/// Drops the days before `before`.
pub fn prune(conn: &mut DbConnection, before: NaiveDate) -> QueryResult<usize> {
    diesel::delete(key_usage::table.filter(key_usage::day.lt(before))).execute(conn)
}

/// The last use of a stopped key, and how often it was used (since the last flush, when it
/// is counted; in all, when it is read).
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = stale_key_uses)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StaleUse {
    pub key_id: i64,
    pub uses: i64,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
    pub last_ip: Option<String>,
    pub sent_as: SentAs,
    pub method: String,
    pub path: String,
    pub user_agent: Option<String>,
}

/// A stopped key's record, with its key, as the owner and staff see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stale_key_uses)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StaleRecord {
    #[diesel(embed)]
    pub seen: StaleUse,
    pub dismissed_at: Option<NaiveDateTime>,
    pub mailed_at: Option<NaiveDateTime>,
}

impl StaleUse {
    /// Adds these uses to the key's row (one per key): counts add, the last use replaces.
    pub fn add(&self, conn: &mut DbConnection) -> QueryResult<()> {
        crate::on_backend!(conn, |c| diesel::insert_into(stale_key_uses::table)
            .values(self)
            .on_conflict(stale_key_uses::key_id)
            .do_update()
            .set((
                stale_key_uses::uses.eq(stale_key_uses::uses + excluded(stale_key_uses::uses)),
                stale_key_uses::last_at.eq(excluded(stale_key_uses::last_at)),
                stale_key_uses::last_ip.eq(excluded(stale_key_uses::last_ip)),
                stale_key_uses::sent_as.eq(excluded(stale_key_uses::sent_as)),
                stale_key_uses::method.eq(excluded(stale_key_uses::method)),
                stale_key_uses::path.eq(excluded(stale_key_uses::path)),
                stale_key_uses::user_agent.eq(excluded(stale_key_uses::user_agent)),
            ))
            .execute(c))
        .map(drop)
    }

    /// Marks the key as mailed about at `at` unless it was within the day before: whether
    /// this caller is the one to mail (the database decides, across instances).
    pub fn take_mail_turn(
        conn: &mut DbConnection,
        key: i64,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let day_before = at - chrono::Duration::days(1);
        diesel::update(
            stale_key_uses::table
                .filter(stale_key_uses::key_id.eq(key))
                .filter(
                    stale_key_uses::mailed_at
                        .is_null()
                        .or(stale_key_uses::mailed_at.le(day_before)),
                ),
        )
        .set(stale_key_uses::mailed_at.eq(at))
        .execute(conn)
        .map(|n| n == 1)
    }
}

impl StaleRecord {
    /// The user's stopped keys still in use, with their keys, most recently used first.
    pub fn of_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<(Self, ApiKeyRow)>> {
        stale_key_uses::table
            .inner_join(api_keys::table)
            .filter(api_keys::user_id.eq(user))
            .order(stale_key_uses::last_at.desc())
            .select((Self::as_select(), ApiKeyRow::as_select()))
            .load(conn)
    }

    pub fn of_key(conn: &mut DbConnection, key: i64) -> QueryResult<Option<Self>> {
        stale_key_uses::table
            .find(key)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Hides the notice until the key is used again; false when the user has no such key.
    pub fn dismiss(
        conn: &mut DbConnection,
        user: UserId,
        key: i64,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let owned = api_keys::table
            .filter(api_keys::id.eq(key))
            .filter(api_keys::user_id.eq(user))
            .select(api_keys::id);
        diesel::update(
            stale_key_uses::table
                .filter(stale_key_uses::key_id.eq(key))
                .filter(stale_key_uses::key_id.eq_any(owned)),
        )
        .set(stale_key_uses::dismissed_at.eq(at))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// How often it was used since it stopped: "once", "14 times".
    pub fn times(&self) -> String {
        if self.seen.uses == 1 {
            "once".into()
        } else {
            format!("{} times", self.seen.uses)
        }
    }

    /// Shown to the owner: never dismissed, or used again since.
    pub fn is_news(&self) -> bool {
        self.dismissed_at.is_none_or(|d| self.seen.last_at > d)
    }
}
