//! The product's records (contacts, companies, jobs): validated changes, each written with
//! its webhook event in one transaction.

mod company;
mod contact;
mod job;
pub mod text;

pub use company::CompanyFields;
pub use contact::ContactFields;
pub use job::JobFields;

use super::{Error, Result, outbox};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::company::Company;
use crate::models::{Entity, OperationType, RecordTable, UserId};

/// A kind of record the API serves: how it is stored, the fields a program sends, and what
/// makes them valid.
pub trait Record: RecordTable {
    const ENTITY: Entity;
    /// The fields POST must carry.
    const REQUIRED: &'static [&'static str];
    /// The fields a program sends, for POST (required ones present) and PATCH (any subset).
    type Fields: serde::de::DeserializeOwned + Send + 'static;
    /// Checks (and trims) the fields into what is written; `creating` says whether required
    /// fields must be present.
    fn validate(
        conn: &mut DbConnection,
        fields: Self::Fields,
        creating: bool,
    ) -> Result<Self::Changes>;
}

pub fn get<R: Record>(conn: &mut DbConnection, id: i64) -> Result<R> {
    R::find(conn, id)?.ok_or(Error::NotFound)
}

pub fn page<R: Record>(conn: &mut DbConnection, after: Option<i64>, limit: i64) -> Result<Vec<R>> {
    Ok(R::page(conn, after, limit)?)
}

pub fn create<R: Record>(conn: &mut DbConnection, actor: UserId, fields: R::Fields) -> Result<R> {
    write_transaction(conn, |conn| {
        let changes = R::validate(conn, fields, true)?;
        let record = R::insert(conn, &changes, actor, now())?;
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
    fields: R::Fields,
) -> Result<R> {
    write_transaction(conn, |conn| {
        R::find(conn, id)?.ok_or(Error::NotFound)?;
        let changes = R::validate(conn, fields, false)?;
        let record = R::update(conn, id, &changes, actor, now())?.ok_or(Error::NotFound)?;
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

/// A `company_id` must name a company that exists.
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
