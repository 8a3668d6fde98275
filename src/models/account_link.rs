//! One-time links mailed to a person (an invitation, a password reset), kept as hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::{User, UserId};
use crate::db::DbConnection;
use crate::db::schema::{account_links, users};

super::text_enum! {
    /// What a link lets its holder do, once.
    LinkPurpose { Invitation = "invitation", PasswordReset = "password_reset" }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = account_links)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AccountLink {
    pub user_id: UserId,
    pub purpose: LinkPurpose,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl AccountLink {
    /// Replaces the person's link for `purpose` with this one: an older link stops working.
    pub fn replace(
        conn: &mut DbConnection,
        user: UserId,
        purpose: LinkPurpose,
        token_hash: &[u8],
        at: NaiveDateTime,
        expires_at: NaiveDateTime,
    ) -> QueryResult<()> {
        Self::delete_for(conn, user, purpose)?;
        diesel::insert_into(account_links::table)
            .values((
                account_links::token_hash.eq(token_hash),
                account_links::user_id.eq(user),
                account_links::purpose.eq(purpose),
                account_links::created_at.eq(at),
                account_links::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn delete_for(
        conn: &mut DbConnection,
        user: UserId,
        purpose: LinkPurpose,
    ) -> QueryResult<usize> {
        diesel::delete(
            account_links::table
                .filter(account_links::user_id.eq(user))
                .filter(account_links::purpose.eq(purpose)),
        )
        .execute(conn)
    }

    /// The person's link for `purpose`, if one is out.
    pub fn of(
        conn: &mut DbConnection,
        user: UserId,
        purpose: LinkPurpose,
    ) -> QueryResult<Option<AccountLink>> {
        account_links::table
            .filter(account_links::user_id.eq(user))
            .filter(account_links::purpose.eq(purpose))
            .select(AccountLink::as_select())
            .first(conn)
            .optional()
    }

    /// The link with this hash and its person, expired or not.
    pub fn find(
        conn: &mut DbConnection,
        token_hash: &[u8],
        purpose: LinkPurpose,
    ) -> QueryResult<Option<(AccountLink, User)>> {
        account_links::table
            .inner_join(users::table)
            .filter(account_links::token_hash.eq(token_hash))
            .filter(account_links::purpose.eq(purpose))
            .select((AccountLink::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    /// Uses the link up: false when another request used it first.
    pub fn take(conn: &mut DbConnection, token_hash: &[u8]) -> QueryResult<bool> {
        diesel::delete(account_links::table.filter(account_links::token_hash.eq(token_hash)))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// The people invited and not yet signed up, newest invitation first, with their link.
    pub fn invitations(
        conn: &mut DbConnection,
        limit: i64,
    ) -> QueryResult<Vec<(User, Option<AccountLink>)>> {
        users::table
            .left_join(
                account_links::table.on(account_links::user_id
                    .eq(users::id)
                    .and(account_links::purpose.eq(LinkPurpose::Invitation))),
            )
            .filter(users::invited_at.is_not_null())
            .order((users::invited_at.desc(), users::id.desc()))
            .limit(limit)
            .select((User::as_select(), Option::<AccountLink>::as_select()))
            .load(conn)
    }
}
