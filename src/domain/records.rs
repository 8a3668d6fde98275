//! The product's records (contacts, companies, jobs): validated changes, each written with
//! its webhook event in one transaction.

use super::{Error, Result, invalid, outbox, web_address};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::company::{Company, CompanyFields};
use crate::models::contact::{Contact, ContactFields};
use crate::models::job::{Job, JobFields};
use crate::models::{Entity, OperationType, RecordTable, UserId};

const MAX_NAME_CHARS: usize = 200;

/// A kind of record the API serves: how it is stored, and what makes its fields valid.
pub trait Record: RecordTable {
    const ENTITY: Entity;
    /// The fields POST must carry.
    const REQUIRED: &'static [&'static str];
    /// Checks (and trims) the fields; `creating` says whether required fields must be present.
    fn validate(conn: &mut DbConnection, fields: &mut Self::Fields, creating: bool) -> Result<()>;
}

pub fn get<R: Record>(conn: &mut DbConnection, id: i64) -> Result<R> {
    R::find(conn, id)?.ok_or(Error::NotFound)
}

pub fn page<R: Record>(conn: &mut DbConnection, after: Option<i64>, limit: i64) -> Result<Vec<R>> {
    Ok(R::page(conn, after, limit)?)
}

pub fn create<R: Record>(
    conn: &mut DbConnection,
    actor: UserId,
    mut fields: R::Fields,
) -> Result<R> {
    write_transaction(conn, |conn| {
        R::validate(conn, &mut fields, true)?;
        let record = R::insert(conn, &fields, actor, now())?;
        outbox::publish(
            conn,
            R::ENTITY,
            OperationType::Create,
            record.id(),
            &record,
            actor,
        )?;
        Ok(record)
    })
}

pub fn update<R: Record>(
    conn: &mut DbConnection,
    actor: UserId,
    id: i64,
    mut fields: R::Fields,
) -> Result<R> {
    write_transaction(conn, |conn| {
        R::find(conn, id)?.ok_or(Error::NotFound)?;
        R::validate(conn, &mut fields, false)?;
        let record = R::update(conn, id, &fields, actor, now())?.ok_or(Error::NotFound)?;
        outbox::publish(conn, R::ENTITY, OperationType::Update, id, &record, actor)?;
        Ok(record)
    })
}

/// Deletes the record; its webhook event carries the record as it was.
pub fn delete<R: Record>(conn: &mut DbConnection, actor: UserId, id: i64) -> Result<()> {
    write_transaction(conn, |conn| {
        let record = R::find(conn, id)?.ok_or(Error::NotFound)?;
        R::delete(conn, id)?;
        outbox::publish(conn, R::ENTITY, OperationType::Delete, id, &record, actor)?;
        Ok(())
    })
}

/// A required text field: trimmed, present when creating, never emptied.
fn required_text(
    field: &'static str,
    value: &mut Option<String>,
    creating: bool,
    max: usize,
) -> Result<()> {
    match value {
        None if creating => Err(invalid(field, "is required")),
        None => Ok(()),
        Some(text) => {
            check_text(field, text, max)?;
            if text.is_empty() {
                Err(invalid(field, "must not be empty"))
            } else {
                Ok(())
            }
        }
    }
}

/// An optional text field: trimmed; an empty string clears it.
fn optional_text(
    field: &'static str,
    value: &mut Option<Option<String>>,
    max: usize,
) -> Result<()> {
    if let Some(Some(text)) = value {
        check_text(field, text, max)?;
        if text.is_empty() {
            *value = Some(None);
        }
    }
    Ok(())
}

/// Counts the length as sent, as the OpenAPI document's `maxLength` does, then trims
/// surrounding whitespace (tabs and line breaks too) and refuses control characters and
/// direction overrides within.
fn check_text(field: &'static str, text: &mut String, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    *text = text.trim().to_owned();
    if text.chars().any(is_refused_char) {
        return Err(invalid(
            field,
            "must not contain control characters or text-direction overrides",
        ));
    }
    Ok(())
}

/// Characters refused inside names and text: controls, and the bidirectional overrides and
/// isolates that make text display in another order than it is stored ("Trojan Source").
pub fn is_refused_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn existing_company(conn: &mut DbConnection, company_id: Option<Option<i64>>) -> Result<()> {
    if let Some(Some(id)) = company_id
        && Company::find(conn, id)?.is_none()
    {
        return Err(Error::MissingReference {
            field: "company_id",
            reason: format!("there is no company {id}"),
        });
    }
    Ok(())
}

impl Record for Contact {
    const ENTITY: Entity = Entity::Contact;
    const REQUIRED: &'static [&'static str] = &["first_name", "last_name"];

    fn validate(conn: &mut DbConnection, f: &mut ContactFields, creating: bool) -> Result<()> {
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
        existing_company(conn, f.company_id)
    }
}

impl Record for Company {
    const ENTITY: Entity = Entity::Company;
    const REQUIRED: &'static [&'static str] = &["name"];

    fn validate(_: &mut DbConnection, f: &mut CompanyFields, creating: bool) -> Result<()> {
        required_text("name", &mut f.name, creating, MAX_NAME_CHARS)?;
        // Blank clears it; anything else is a web address, checked as sent.
        if let Some(Some(website)) = &mut f.website {
            if website.trim().is_empty() {
                f.website = Some(None);
            } else {
                *website = web_address::check("website", website)?;
            }
        }
        Ok(())
    }
}

impl Record for Job {
    const ENTITY: Entity = Entity::Job;
    const REQUIRED: &'static [&'static str] = &["title"];

    fn validate(conn: &mut DbConnection, f: &mut JobFields, creating: bool) -> Result<()> {
        required_text("title", &mut f.title, creating, MAX_NAME_CHARS)?;
        existing_company(conn, f.company_id)
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
