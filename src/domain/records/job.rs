//! Jobs: the fields a program sends, and what makes them valid.

use serde::Deserialize;

use super::text::{self, required_text};
use super::{Record, existing_company};
use crate::db::DbConnection;
use crate::domain::{Result, fields};
use crate::models::Entity;
use crate::models::job::{Job, JobChanges, JobStatus};

/// The fields of a job a program sets. On PATCH, absent fields stay as they are and `null`
/// clears an optional one. Text is trimmed; control characters are refused.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"title": "Engineer", "status": "open"})))]
pub struct JobFields {
    /// Required when creating.
    #[serde(default, deserialize_with = "fields::not_null")]
    #[schema(schema_with = text::required_200)]
    pub title: Option<String>,
    /// The id of an existing company.
    #[serde(default, deserialize_with = "fields::nullable_id")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    /// `open` when not given.
    #[serde(default, deserialize_with = "fields::not_null")]
    #[schema(nullable = false)]
    pub status: Option<JobStatus>,
}

impl Record for Job {
    const ENTITY: Entity = Entity::Job;
    const REQUIRED: &'static [&'static str] = &["title"];

    type Fields = JobFields;

    fn validate(conn: &mut DbConnection, mut f: JobFields, creating: bool) -> Result<JobChanges> {
        required_text("title", &mut f.title, creating, 200)?;
        existing_company(conn, f.company_id)?;
        Ok(JobChanges {
            title: f.title,
            company_id: f.company_id,
            status: f.status,
        })
    }
}
