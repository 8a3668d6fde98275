//! What the product does, independent of HTTP: keys, API Access, accounts, setup, demo data.

pub mod accounts;
pub mod allowed_addresses;
pub mod api_access;
pub mod api_keys;
pub mod api_management;
pub mod audit;
pub mod delivery;
pub mod demo;
pub mod fields;
pub mod key_policy;
pub mod key_usage;
pub mod keys;
pub mod mail;
pub mod outbox;
pub mod people;
pub mod records;
pub mod scopes;
pub mod seed;
pub mod setup;
pub mod sign_in_limits;
pub mod web_address;
pub mod webhook_overview;
pub mod webhooks;

use crate::db::Unavailable;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// The request is valid but the current state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// The input is wrong; the message says which part and why.
    #[error("{0}")]
    Invalid(String),
    /// One field of the input is wrong.
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// A field refers to something that does not exist (a 404, as JSON:API answers it).
    #[error("{field}: {reason}")]
    MissingReference { field: &'static str, reason: String },
    /// Not allowed to the one asking (a role, the key policy).
    #[error("{0}")]
    Forbidden(String),
    /// The key lacks the scope the call needs.
    #[error("{message}")]
    ScopeRequired { message: String, scope: String },
    /// A one-time link that expired or was used (410: it will not work again).
    #[error("{0}")]
    Gone(String),
    #[error("wrong email or password")]
    BadCredentials,
    /// The right password for an account an admin has turned off.
    #[error("this account is turned off")]
    AccountDisabled,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A wrong field, in one line: `return Err(invalid("email", "must be an email address"))`.
pub fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidField {
        field,
        reason: reason.into(),
    }
}
