use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::RecordTable;
use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::contacts;

/// A contact: a person at a company.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = contacts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Contact {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_id: Option<i64>,
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
    #[serde(serialize_with = "super::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "super::utc")]
    pub updated_at: NaiveDateTime,
}

/// What a change writes to a contact (validated by `domain::records`): an absent field stays
/// as it is, `Some(None)` clears an optional one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = contacts)]
pub struct ContactChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub company_id: Option<Option<i64>>,
}

impl RecordTable for Contact {
    type Changes = ContactChanges;

    super::record_queries!(contacts);

    /// Inserts a contact from validated fields (first and last name present).
    fn insert(
        conn: &mut DbConnection,
        fields: &ContactChanges,
        by: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<Self> {
        let id: i64 = diesel::insert_into(contacts::table)
            .values((
                contacts::first_name.eq(fields.first_name.as_deref().unwrap_or_default()),
                contacts::last_name.eq(fields.last_name.as_deref().unwrap_or_default()),
                contacts::email.eq(fields.email.clone().flatten()),
                contacts::phone.eq(fields.phone.clone().flatten()),
                contacts::company_id.eq(fields.company_id.flatten()),
                contacts::created_by.eq(by),
                contacts::updated_by.eq(by),
                contacts::created_at.eq(at),
                contacts::updated_at.eq(at),
            ))
            .returning(contacts::id)
            .get_result(conn)?;
        <Self as RecordTable>::find(conn, id)?.ok_or(diesel::result::Error::NotFound)
    }
}
