use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::RecordTable;
use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::companies;

/// A company.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = companies)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
    #[serde(serialize_with = "super::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "super::utc")]
    pub updated_at: NaiveDateTime,
}

/// What a change writes to a company (validated by `domain::records`): an absent field stays
/// as it is, `Some(None)` clears an optional one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = companies)]
pub struct CompanyChanges {
    pub name: Option<String>,
    pub website: Option<Option<String>>,
}

impl RecordTable for Company {
    type Changes = CompanyChanges;

    super::record_queries!(companies);

    /// Inserts a company from validated fields (name present).
    fn insert(
        conn: &mut DbConnection,
        fields: &CompanyChanges,
        by: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<Self> {
        let id: i64 = diesel::insert_into(companies::table)
            .values((
                companies::name.eq(fields.name.as_deref().unwrap_or_default()),
                companies::website.eq(fields.website.clone().flatten()),
                companies::created_by.eq(by),
                companies::updated_by.eq(by),
                companies::created_at.eq(at),
                companies::updated_at.eq(at),
            ))
            .returning(companies::id)
            .get_result(conn)?;
        <Self as RecordTable>::find(conn, id)?.ok_or(diesel::result::Error::NotFound)
    }
}
