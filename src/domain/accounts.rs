//! People who sign in: creating them, and checking their password.

use std::sync::LazyLock;

use std::collections::HashSet;

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

use super::audit::Actor;
use super::mail::notices;
use super::{Error, Result};
use crate::db::{Db, DbConnection, is_unique_violation, now, write_transaction};
use crate::models::session::Session;
use crate::models::user::normalize;
use crate::models::{NewUser, Role, User, UserId};

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing cannot be abused.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The most a password can take in UTF-8: what the command line reads at most.
pub const MAX_PASSWORD_BYTES: usize = MAX_PASSWORD_CHARS * 4;
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
        invited_at: None,
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
/// time and give the same answer; a turned-off account says so only to its right password.
/// The password check (argon2, tens of milliseconds) runs after the database connection is
/// back in the pool.
pub async fn sign_in(db: &Db, email: String, password: String) -> Result<User> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(Error::BadCredentials);
    }
    let user = db
        .run(move |c| Ok::<_, Error>(User::find_by_email(c, &email)?))
        .await?;
    let user = check_password(user, password).await?;
    if user.disabled_at.is_some() {
        return Err(Error::AccountDisabled);
    }
    Ok(user)
}

/// `user` if `password` is theirs; a missing user costs the same time as a wrong password.
pub async fn check_password(user: Option<User>, password: String) -> Result<User> {
    actix_web::web::block(move || {
        // An invited person has no password yet: checked against the dummy, never matching.
        let user = user.filter(|u| !u.password_hash.is_empty());
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

/// A new password, checked and hashed. Hashing takes Argon2's time and memory, so it is done
/// before the write is queued, never while holding the database's write turn.
pub struct NewPassword(String);

impl NewPassword {
    pub fn new(password: &str) -> Result<Self> {
        validate_password(password)?;
        Ok(Self(hash_password(password)?))
    }

    /// The argon2id hash, as stored.
    pub fn hash(&self) -> &str {
        &self.0
    }
}

/// Sets a new password and ends every session of the user (the caller's own session is
/// renewed by the web layer, so only the others end).
pub fn change_password(
    conn: &mut DbConnection,
    actor: &Actor,
    user: UserId,
    password: &NewPassword,
) -> Result<()> {
    write_transaction(conn, |conn| {
        if User::set_password_hash(conn, user, &password.0)? == 0 {
            return Err(Error::NotFound);
        }
        Session::delete_for_user(conn, user)?;
        let person = User::find(conn, user)?.ok_or(Error::NotFound)?;
        notices::password_changed(conn, &person, actor)?;
        Ok(())
    })
}

/// Sets the password of the user with this email (the command line), ending their sessions.
pub fn set_password(conn: &mut DbConnection, email: &str, new_password: &str) -> Result<User> {
    let password = NewPassword::new(new_password)?;
    let user = User::find_by_email(conn, email)?.ok_or(Error::NotFound)?;
    let operator = Actor {
        id: user.id,
        ip: None,
    };
    write_transaction(conn, |conn| {
        // An invited person given a password on the server is signed up.
        User::accept_invitation(conn, user.id, &password.0)?;
        change_password(conn, &operator, user.id, &password)
    })?;
    Ok(user)
}

/// Ends every session of the user, on every instance.
pub fn sign_out_everywhere(conn: &mut DbConnection, user: UserId) -> Result<()> {
    Session::delete_for_user(conn, user)?;
    Ok(())
}

/// Argon2id at OWASP's parameters: m = 19 MiB, t = 2, p = 1. Spelt out rather than left to
/// the crate's defaults, which may change.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid(format!("password could not be hashed: {e}")))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verified against when the email is unknown, so the answer takes as long as a real check.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("keyport-timing-equaliser").unwrap_or_default());

pub(super) fn validate_email(email: &str) -> Result<()> {
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

pub(super) fn validate_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(super::records::text::is_refused_char)
    {
        return Err(Error::Invalid(format!(
            "Name: enter 1 to {MAX_NAME_CHARS} characters."
        )));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(Error::Invalid(format!(
            "Password: use {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters."
        )));
    }
    if is_common(password) {
        return Err(Error::Invalid(
            "Password: this password is on a list of common passwords. Choose one that is harder to guess; a few unrelated words work well."
                .into(),
        ));
    }
    Ok(())
}

/// Shipped with keyport: see data/common-passwords.py for where the list comes from.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect()
});

/// On the list (whatever the case), or one short piece repeated ("abcabcabcabc").
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lower.as_str()) {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    (1..=chars.len() / 3).any(|unit| {
        chars.len().is_multiple_of(unit) && chars.chunks(unit).all(|chunk| chunk == &chars[..unit])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(validate_password("correct horse battery").is_ok());
        assert!(validate_password("short").is_err());
        let longest: String = (0..MAX_PASSWORD_CHARS as u32)
            .filter_map(|i| char::from_u32(0x4E00 + i))
            .collect();
        assert!(validate_password(&longest).is_ok());
        assert!(validate_password(&format!("{longest}x")).is_err());
        assert!(validate_password(&"xy1".repeat(400)).is_err());
        assert!(validate_password(&"abcdefghijklm".repeat(79)).is_err());
        for common in [
            "qwerty123456",
            "QWERTY123456",
            "1qaz2wsx3edc",
            "aaaaaaaaaaaa",
        ] {
            assert!(
                validate_password(common).is_err(),
                "{common} should be refused"
            );
        }
        assert!(COMMON_PASSWORDS.len() > 400);
    }

    #[test]
    fn hashes_are_argon2id_at_owasp_parameters() {
        let hash = hash_password("correct horse battery").expect("hashes");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterz"));
    }
}
