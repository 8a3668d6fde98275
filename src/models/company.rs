use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The fields of a company a program sets. On PATCH, absent fields stay as they are and `null`
/// clears an optional one. Text is trimmed; control characters are refused.
#[derive(Debug, Default, Deserialize, AsChangeset, utoipa::ToSchema)]
#[diesel(table_name = companies)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Analytical Engines", "website": "https://engines.example"})))]
pub struct CompanyFields {
    /// Required when creating.
    #[serde(default, deserialize_with = "super::not_null")]
    #[schema(
        nullable = false,
        max_length = 200,
        pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069](?:[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069])?\s*$"
    )]
    pub name: Option<String>,
    /// An http or https address.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(schema_with = crate::domain::web_address::optional_schema)]
    pub website: Option<Option<String>>,
}

impl RecordTable for Company {
    type Fields = CompanyFields;

    super::record_queries!(companies);

    /// Inserts a company from validated fields (name present).
    fn insert(
        conn: &mut DbConnection,
        fields: &CompanyFields,
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
