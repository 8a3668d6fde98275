//! The admin's key policy: one row, absent until an admin first saves it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::key_policy;

super::text_enum! {
    /// Who may turn API Access on: everyone, or only people an admin has allowed.
    WhoMayEnable { Everyone = "everyone", Allowed = "allowed" }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = key_policy)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct KeyPolicyRow {
    pub max_lifetime_days: Option<i32>,
    pub require_expiry: bool,
    pub max_keys_per_user: i32,
    pub allow_query_keys: bool,
    pub who_may_enable: WhoMayEnable,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<UserId>,
}

const ONLY_ROW: i32 = 1;

impl KeyPolicyRow {
    pub fn get(conn: &mut DbConnection) -> QueryResult<Option<Self>> {
        key_policy::table
            .find(ONLY_ROW)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Writes the one row: two admins saving at once on PostgreSQL both succeed, the later
    /// one's policy stays (an update-or-insert would let the second insert fail).
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        crate::on_backend!(conn, |c| diesel::insert_into(key_policy::table)
            .values((key_policy::id.eq(ONLY_ROW), self))
            .on_conflict(key_policy::id)
            .do_update()
            .set(self)
            .execute(c))
        .map(drop)
    }
}
