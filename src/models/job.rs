use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::RecordTable;
use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::jobs;

super::text_enum! {
    /// Where a job stands.
    #[derive(Serialize, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    JobStatus { Open = "open", OnHold = "on_hold", Closed = "closed" }
}

/// A job opening at a company.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = jobs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Job {
    pub id: i64,
    pub title: String,
    pub company_id: Option<i64>,
    pub status: JobStatus,
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
    #[serde(serialize_with = "super::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "super::utc")]
    pub updated_at: NaiveDateTime,
}

/// What a change writes to a job (validated by `domain::records`): an absent field stays as it
/// is, `Some(None)` clears an optional one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = jobs)]
pub struct JobChanges {
    pub title: Option<String>,
    pub company_id: Option<Option<i64>>,
    pub status: Option<JobStatus>,
}

impl RecordTable for Job {
    type Changes = JobChanges;

    super::record_queries!(jobs);

    /// Inserts a job from validated fields (title present; status defaults to open).
    fn insert(
        conn: &mut DbConnection,
        fields: &JobChanges,
        by: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<Self> {
        let id: i64 = diesel::insert_into(jobs::table)
            .values((
                jobs::title.eq(fields.title.as_deref().unwrap_or_default()),
                jobs::company_id.eq(fields.company_id.flatten()),
                jobs::status.eq(fields.status.unwrap_or(JobStatus::Open)),
                jobs::created_by.eq(by),
                jobs::updated_by.eq(by),
                jobs::created_at.eq(at),
                jobs::updated_at.eq(at),
            ))
            .returning(jobs::id)
            .get_result(conn)?;
        jobs::table.find(id).select(Self::as_select()).first(conn)
    }
}
