use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::setup_tokens;

/// A one-time link that creates the first admin.
pub struct SetupToken;

impl SetupToken {
    pub fn insert(
        conn: &mut DbConnection,
        token_hash: &[u8],
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::insert_into(setup_tokens::table)
            .values((
                setup_tokens::token_hash.eq(token_hash),
                setup_tokens::created_at.eq(at),
            ))
            .execute(conn)
    }

    pub fn is_unused(conn: &mut DbConnection, token_hash: &[u8]) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            setup_tokens::table
                .filter(setup_tokens::token_hash.eq(token_hash))
                .filter(setup_tokens::used_at.is_null()),
        ))
        .get_result(conn)
    }

    /// Marks the token used; returns 0 when it was unknown or already used, so two tabs
    /// racing with one link create one admin.
    pub fn redeem(
        conn: &mut DbConnection,
        token_hash: &[u8],
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            setup_tokens::table
                .filter(setup_tokens::token_hash.eq(token_hash))
                .filter(setup_tokens::used_at.is_null()),
        )
        .set(setup_tokens::used_at.eq(at))
        .execute(conn)
    }
}
