//! Contacts: the fields a program sends, and what makes them valid.

use serde::Deserialize;

use super::text::{self, optional_text, required_text};
use super::{Record, existing_company};
use crate::db::DbConnection;
use crate::domain::{Result, fields, invalid};
use crate::models::Entity;
use crate::models::contact::{Contact, ContactChanges};

/// The fields of a contact a program sets. On PATCH, absent fields stay as they are and `null`
/// clears an optional one. Text is trimmed; control characters are refused.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000"})))]
pub struct ContactFields {
    /// Required when creating.
    #[serde(default, deserialize_with = "fields::not_null")]
    #[schema(schema_with = text::required_100)]
    pub first_name: Option<String>,
    /// Required when creating.
    #[serde(default, deserialize_with = "fields::not_null")]
    #[schema(schema_with = text::required_100)]
    pub last_name: Option<String>,
    /// An email address like name@example.com.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<String>, max_length = 254, pattern = r"^\s*(?:[^\s@\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]+@[^\s@.\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]+(?:\.[^\s@.\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]+)+)?\s*$")]
    pub email: Option<Option<String>>,
    /// Digits, spaces and `+ - ( ) .`.
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\s*[0-9 +\-().]*\s*$")]
    pub phone: Option<Option<String>>,
    /// The id of an existing company.
    #[serde(default, deserialize_with = "fields::nullable_id")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
}

impl Record for Contact {
    const ENTITY: Entity = Entity::Contact;
    const REQUIRED: &'static [&'static str] = &["first_name", "last_name"];

    type Fields = ContactFields;

    fn validate(
        conn: &mut DbConnection,
        mut f: ContactFields,
        creating: bool,
    ) -> Result<ContactChanges> {
        required_text("first_name", &mut f.first_name, creating, 100)?;
        required_text("last_name", &mut f.last_name, creating, 100)?;
        optional_text("email", &mut f.email, 254)?;
        if let Some(Some(email)) = &f.email
            && !looks_like_email(email)
        {
            return Err(invalid(
                "email",
                "must be an email address like name@example.com",
            ));
        }
        optional_text("phone", &mut f.phone, 32)?;
        if let Some(Some(phone)) = &f.phone
            && !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(invalid(
                "phone",
                "may contain only digits, spaces and + - ( ) .",
            ));
        }
        existing_company(conn, f.company_id)?;
        Ok(ContactChanges {
            first_name: f.first_name,
            last_name: f.last_name,
            email: f.email,
            phone: f.phone,
            company_id: f.company_id,
        })
    }
}

/// `local@domain.tld`: one `@`, no spaces, and a domain of two or more non-empty labels.
fn looks_like_email(email: &str) -> bool {
    email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| !label.is_empty())
            && !email.contains(char::is_whitespace)
    })
}
