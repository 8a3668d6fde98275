//! People who sign in: creating them, and checking their password.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use super::{Error, Result};
use crate::db::{Db, DbConnection, is_unique_violation, now, write_transaction};
use crate::models::user::normalize;
use crate::models::{NewUser, Role, User};

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing cannot be abused.
pub const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_EMAIL_BYTES: usize = 254;
const MAX_NAME_CHARS: usize = 100;

#[derive(Debug)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: &'a str,
}

pub fn create_user(conn: &mut DbConnection, account: &NewAccount<'_>) -> Result<User> {
    let email = account.email.trim();
    let name = account.name.trim();
    validate_email(email)?;
    validate_name(name)?;
    validate_password(account.password)?;
    let password_hash = hash_password(account.password)?;
    let new = NewUser {
        email,
        email_normalized: &normalize(email),
        name,
        password_hash: &password_hash,
        role: account.role,
        created_at: now(),
    };
    // The user and their search terms, together or not at all.
    write_transaction(conn, |conn| new.insert(conn)).map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict(format!("A user with the email {email} already exists."))
        } else {
            e.into()
        }
    })
}

/// The user with this email and password. A wrong email and a wrong password take the same
/// time and give the same answer. The password check (argon2, tens of milliseconds) runs after
/// the database connection is back in the pool.
pub async fn sign_in(db: &Db, email: String, password: String) -> Result<User> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::BadCredentials);
    }
    let user = db
        .run(move |c| Ok::<_, Error>(User::find_by_email(c, &email)?))
        .await?;
    actix_web::web::block(move || {
        let hash = user
            .as_ref()
            .map_or(DUMMY_HASH.as_str(), |u| u.password_hash.as_str());
        let verified = verify_password(hash, &password);
        match user {
            Some(user) if verified => Ok(user),
            _ => Err(Error::BadCredentials),
        }
    })
    .await
    .map_err(|e| Error::Unavailable(crate::db::Unavailable(e.to_string())))?
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    // Argon2id, m = 19 MiB, t = 2, p = 1: the crate's defaults are OWASP's recommendation.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid(format!("password could not be hashed: {e}")))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verified against when the email is unknown, so the answer takes as long as a real check.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("keyport-timing-equaliser").unwrap_or_default());

fn validate_email(email: &str) -> Result<()> {
    let valid = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(
            "Email: enter an address like name@example.com.".into(),
        ))
    }
}

fn validate_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::Invalid(format!(
            "Name: enter 1 to {MAX_NAME_CHARS} characters."
        )));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::Invalid(format!(
            "Password: use at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)."
        )));
    }
    Ok(())
}
