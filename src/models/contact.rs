use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The fields of a contact a program sets. On PATCH, absent fields stay as they are and `null`
/// clears an optional one. Text is trimmed; control characters are refused.
#[derive(Debug, Default, Deserialize, AsChangeset, utoipa::ToSchema)]
#[diesel(table_name = contacts)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000"})))]
pub struct ContactFields {
    /// Required when creating.
    #[serde(default, deserialize_with = "super::not_null")]
    #[schema(
        nullable = false,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069](?:[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069])?\s*$"
    )]
    pub first_name: Option<String>,
    /// Required when creating.
    #[serde(default, deserialize_with = "super::not_null")]
    #[schema(
        nullable = false,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069](?:[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069])?\s*$"
    )]
    pub last_name: Option<String>,
    /// An email address like name@example.com.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, max_length = 254, pattern = r"^\s*(?:[^\s@\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]+@[^\s@.\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]+(?:\.[^\s@.\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]+)+)?\s*$")]
    pub email: Option<Option<String>>,
    /// Digits, spaces and `+ - ( ) .`.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\s*[0-9 +\-().]*\s*$")]
    pub phone: Option<Option<String>>,
    /// The id of an existing company.
    #[serde(default, deserialize_with = "super::nullable_id")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
}

impl RecordTable for Contact {
    type Fields = ContactFields;

    super::record_queries!(contacts);

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
        <Self as RecordTable>::find(conn, id)?.ok_or(diesel::result::Error::NotFound)
    }
}
