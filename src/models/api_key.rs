use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::{User, UserId};
use crate::db::DbConnection;
use crate::db::schema::{api_keys, users};

super::text_enum! {
    /// Why a key stopped working. Revoked keys stay as history.
    RevokeReason { Regenerated = "regenerated", TurnedOff = "turned_off", Cleared = "cleared" }
}

/// A key as the portal shows it: never the secret, only its identifying prefix.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiKeyRow {
    pub id: i64,
    pub user_id: UserId,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<UserId>,
    pub revoked_reason: Option<RevokeReason>,
    pub revoked_note: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub user_id: UserId,
    pub prefix: &'a str,
    pub key_hash: &'a [u8],
    pub created_at: NaiveDateTime,
}

/// The part of a user that lists show beside a key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserSummary {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// One row of API Management: an active key and its owner.
pub type ActiveKeyListing = (ApiKeyRow, UserSummary);

impl NewApiKey<'_> {
    /// Inserts many keys in one statement (seeding at scale).
    pub fn insert_all(conn: &mut DbConnection, keys: &[NewApiKey]) -> QueryResult<usize> {
        crate::on_backend!(conn, |c| diesel::insert_into(api_keys::table)
            .values(keys)
            .execute(c))
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<ApiKeyRow> {
        diesel::insert_into(api_keys::table)
            .values(self)
            .returning((
                api_keys::id,
                api_keys::user_id,
                api_keys::prefix,
                api_keys::created_at,
                api_keys::last_used_at,
                api_keys::last_used_ip,
                api_keys::revoked_at,
                api_keys::revoked_by,
                api_keys::revoked_reason,
                api_keys::revoked_note,
            ))
            .get_result(conn)
    }
}

impl ApiKeyRow {
    pub fn active_for_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Option<Self>> {
        api_keys::table
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::revoked_at.is_null())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every key the user has had, newest first.
    pub fn history_for_user(
        conn: &mut DbConnection,
        user: UserId,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        api_keys::table
            .filter(api_keys::user_id.eq(user))
            .order(api_keys::id.desc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// The active key with this hash and its owner, if any: one indexed lookup.
    pub fn find_active_by_hash(
        conn: &mut DbConnection,
        hash: &[u8],
    ) -> QueryResult<Option<(Self, User)>> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::key_hash.eq(hash))
            .filter(api_keys::revoked_at.is_null())
            // A turned-off account's key fails, and works again if the account is turned on.
            .filter(users::disabled_at.is_null())
            .select((Self::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    /// Revokes the user's active key, if there is one; returns how many keys it revoked.
    pub fn revoke_active(
        conn: &mut DbConnection,
        user: UserId,
        reason: RevokeReason,
        by: UserId,
        note: Option<&str>,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            api_keys::table
                .filter(api_keys::user_id.eq(user))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set((
            api_keys::revoked_at.eq(at),
            api_keys::revoked_by.eq(by),
            api_keys::revoked_reason.eq(reason),
            api_keys::revoked_note.eq(note),
        ))
        .execute(conn)
    }

    pub fn record_use(
        conn: &mut DbConnection,
        id: i64,
        at: NaiveDateTime,
        ip: Option<&str>,
    ) -> QueryResult<usize> {
        diesel::update(api_keys::table.find(id))
            .set((api_keys::last_used_at.eq(at), api_keys::last_used_ip.eq(ip)))
            .execute(conn)
    }

    /// Users with API Access on, newest key first, after the key `after`. Walks the partial
    /// index of active keys, so a page costs the same at any depth and any table size.
    pub fn list_active(
        conn: &mut DbConnection,
        after: Option<i64>,
        limit: i64,
    ) -> QueryResult<Vec<ActiveKeyListing>> {
        let mut query = api_keys::table
            .inner_join(users::table)
            .filter(api_keys::revoked_at.is_null())
            .select((Self::as_select(), UserSummary::as_select()))
            .order(api_keys::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(api_keys::id.lt(after));
        }
        query.load(conn)
    }

    /// Users with API Access on who have a search term starting with `search` (already
    /// normalised), in term order, after the user `after`. Each user is listed once, under their
    /// first matching term. Walks the term index in order: a page costs the same however many
    /// users match.
    pub fn search_active(
        conn: &mut DbConnection,
        search: &str,
        after: Option<UserId>,
        limit: i64,
    ) -> QueryResult<Vec<ActiveKeyListing>> {
        use crate::db::schema::user_search_terms as terms;
        let upper = format!("{search}\u{10FFFF}");
        let in_range = |term: terms::term| term.ge(search.to_owned()).and(term.lt(upper.clone()));
        // Where the previous page ended: the term its last user was listed under.
        let cursor = match after {
            Some(user) => terms::table
                .filter(terms::user_id.eq(user))
                .filter(in_range(terms::term))
                .select(diesel::dsl::min(terms::term))
                .first::<Option<String>>(conn)?
                .map(|term| (term, user)),
            None => None,
        };
        let lower = cursor
            .as_ref()
            .map_or_else(|| search.to_owned(), |(term, _)| term.clone());
        let earlier = diesel::alias!(crate::db::schema::user_search_terms as earlier);
        let mut query = terms::table
            .inner_join(
                api_keys::table.on(api_keys::user_id
                    .eq(terms::user_id)
                    .and(api_keys::revoked_at.is_null())),
            )
            .inner_join(users::table.on(users::id.eq(terms::user_id)))
            // One lower bound, so the index range starts at the cursor, not at the first match.
            .filter(terms::term.ge(lower).and(terms::term.lt(upper.clone())))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                earlier
                    .filter(earlier.field(terms::user_id).eq(terms::user_id))
                    .filter(earlier.field(terms::term).ge(search.to_owned()))
                    .filter(earlier.field(terms::term).lt(terms::term)),
            )))
            .select((Self::as_select(), UserSummary::as_select()))
            .order((terms::term.asc(), terms::user_id.asc()))
            .limit(limit)
            .into_boxed();
        if let Some((term, user)) = cursor {
            query = query.filter(terms::term.gt(term).or(terms::user_id.gt(user)));
        }
        query.load(conn)
    }
}
