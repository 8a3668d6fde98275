use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::RecordTable;
use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::contacts;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
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

/// The fields a program sets; absent fields stay as they are on PATCH, `null` clears.
#[derive(Debug, Default, Deserialize, AsChangeset)]
#[diesel(table_name = contacts)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    pub company_id: Option<Option<i64>>,
}

impl RecordTable for Contact {
    type Fields = ContactFields;

    fn id(&self) -> i64 {
        self.id
    }

    fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Self>> {
        contacts::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    fn page(conn: &mut DbConnection, after: Option<i64>, limit: i64) -> QueryResult<Vec<Self>> {
        contacts::table
            .filter(contacts::id.gt(after.unwrap_or(0)))
            .order(contacts::id.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Inserts a contact from validated fields (first and last name present).
    fn insert(
        conn: &mut DbConnection,
        fields: &ContactFields,
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
        contacts::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    fn update(
        conn: &mut DbConnection,
        id: i64,
        fields: &ContactFields,
        by: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<Option<Self>> {
        diesel::update(contacts::table.find(id))
            .set((
                fields,
                contacts::updated_by.eq(by),
                contacts::updated_at.eq(at),
            ))
            .execute(conn)?;
        <Self as RecordTable>::find(conn, id)
    }

    fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
        diesel::delete(contacts::table.find(id)).execute(conn)
    }
}
