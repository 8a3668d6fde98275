//! Companies: the fields a program sends, and what makes them valid.

use serde::Deserialize;

use super::Record;
use super::text::{self, required_text};
use crate::db::DbConnection;
use crate::domain::{Result, fields, web_address};
use crate::models::Entity;
use crate::models::company::{Company, CompanyChanges};

/// The fields of a company a program sets. On PATCH, absent fields stay as they are and `null`
/// clears an optional one. Text is trimmed; control characters are refused.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Analytical Engines", "website": "https://engines.example"})))]
pub struct CompanyFields {
    /// Required when creating.
    #[serde(default, deserialize_with = "fields::not_null")]
    #[schema(schema_with = text::required_200)]
    pub name: Option<String>,
    /// An http or https address.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(schema_with = web_address::optional_schema)]
    pub website: Option<Option<String>>,
}

impl Record for Company {
    const ENTITY: Entity = Entity::Company;
    const REQUIRED: &'static [&'static str] = &["name"];

    type Fields = CompanyFields;

    fn validate(
        _: &mut DbConnection,
        mut f: CompanyFields,
        creating: bool,
    ) -> Result<CompanyChanges> {
        required_text("name", &mut f.name, creating, 200)?;
        // Blank clears it; anything else is a web address, checked as sent.
        if let Some(Some(website)) = &mut f.website {
            if website.trim().is_empty() {
                f.website = Some(None);
            } else {
                *website = web_address::check("website", website)?;
            }
        }
        Ok(CompanyChanges {
            name: f.name,
            website: f.website,
        })
    }
}
