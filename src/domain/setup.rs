//! First start: a one-time link that creates the first admin.

use super::accounts::{NewAccount, create_user};
use super::keys::{random_token, token_hash as hash};
use super::{Error, Result};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::setup_token::SetupToken;
use crate::models::{Role, User};

/// A new setup token, stored only as its hash; the caller prints the link.
pub fn create_link_token(conn: &mut DbConnection) -> Result<String> {
    let (token, hash) = random_token();
    SetupToken::insert(conn, &hash, now())?;
    Ok(token)
}

pub fn token_is_valid(conn: &mut DbConnection, token: &str) -> Result<bool> {
    Ok(!User::any_exist(conn)? && SetupToken::is_unused(conn, &hash(token))?)
}

/// Creates the first admin with the link's token; the token is used up even if two tabs race.
pub fn create_first_admin(
    conn: &mut DbConnection,
    token: &str,
    email: &str,
    name: &str,
    password: &str,
) -> Result<User> {
    write_transaction(conn, |conn| {
        if User::any_exist(conn)? || SetupToken::redeem(conn, &hash(token), now())? == 0 {
            return Err(Error::Invalid(
                "This setup link has already been used or is not valid.".into(),
            ));
        }
        create_user(
            conn,
            &NewAccount {
                email,
                name,
                role: Role::Admin,
                password,
            },
        )
    })
}
