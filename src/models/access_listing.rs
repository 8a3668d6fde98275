//! The lists of people for staff: API Management's (people with API Access on) and People's
//! (everyone), each with their live keys; searched by the start of a name or email and paged
//! with a keyset cursor, so a page costs the same at any depth of a million people.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::{api_keys, stale_key_uses, user_search_terms as terms, users};

/// The part of a user that the list shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserSummary {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: super::Role,
    pub disabled_at: Option<NaiveDateTime>,
    pub api_access_at: Option<NaiveDateTime>,
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub invited_at: Option<NaiveDateTime>,
}

/// One row of the list: a person and their live keys.
#[derive(Debug, Clone)]
pub struct AccessListing {
    pub user: UserSummary,
    /// The prefixes of their keys that are not revoked, oldest first.
    pub prefixes: Vec<String>,
    pub last_used_at: Option<NaiveDateTime>,
}

impl AccessListing {
    /// People with API Access on, most recently turned on first, after the person `after`.
    /// Walks the partial index of people with access on, so a page costs the same at any
    /// depth and any table size.
    pub fn list(
        conn: &mut DbConnection,
        after: Option<UserId>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = users::table
            .filter(users::api_access_at.is_not_null())
            .select(UserSummary::as_select())
            .order((users::api_access_at.desc(), users::id.desc()))
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            let since = users::table
                .find(after)
                .select(users::api_access_at)
                .first::<Option<NaiveDateTime>>(conn)
                .optional()?
                .flatten();
            let Some(since) = since else {
                return Ok(Vec::new());
            };
            // The first condition bounds the index range; the second breaks ties by id.
            query = query
                .filter(users::api_access_at.le(since))
                .filter(users::api_access_at.lt(since).or(users::id.lt(after)));
        }
        let people = query.load(conn)?;
        Self::with_keys(conn, people)
    }

    /// Everyone (`access` None), or only people with API Access off (`Some(false)`), newest
    /// account first, after the person `after`: walks the primary key.
    pub fn everyone(
        conn: &mut DbConnection,
        access: Option<bool>,
        after: Option<UserId>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = users::table
            .select(UserSummary::as_select())
            .order(users::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(users::id.lt(after));
        }
        match access {
            Some(true) => query = query.filter(users::api_access_at.is_not_null()),
            Some(false) => query = query.filter(users::api_access_at.is_null()),
            None => {}
        }
        let people = query.load(conn)?;
        Self::with_keys(conn, people)
    }

    /// People (with API Access on or off as `access` says, or either when None) who have a
    /// search term starting with
    /// `search` (already normalised), in term order, after the person `after`. Each is listed
    /// once, under their first matching term. Walks the term index in order: a page costs the
    /// same however many people match.
    pub fn search(
        conn: &mut DbConnection,
        search: &str,
        access: Option<bool>,
        after: Option<UserId>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let upper = format!("{search}\u{10FFFF}");
        let in_range = |term: terms::term| term.ge(search.to_owned()).and(term.lt(upper.clone()));
        // Where the previous page ended: the term its last person was listed under.
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
            .inner_join(users::table.on(users::id.eq(terms::user_id)))
            // One lower bound, so the index range starts at the cursor, not at the first match.
            .filter(terms::term.ge(lower).and(terms::term.lt(upper.clone())))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                earlier
                    .filter(earlier.field(terms::user_id).eq(terms::user_id))
                    .filter(earlier.field(terms::term).ge(search.to_owned()))
                    .filter(earlier.field(terms::term).lt(terms::term)),
            )))
            .select(UserSummary::as_select())
            .order((terms::term.asc(), terms::user_id.asc()))
            .limit(limit)
            .into_boxed();
        if let Some((term, user)) = cursor {
            query = query.filter(terms::term.gt(term).or(terms::user_id.gt(user)));
        }
        match access {
            Some(true) => query = query.filter(users::api_access_at.is_not_null()),
            Some(false) => query = query.filter(users::api_access_at.is_null()),
            None => {}
        }
        let people = query.load(conn)?;
        Self::with_keys(conn, people)
    }

    /// People with a key that stopped working and was still sent since `since`, newest
    /// account first, after the person `after`; with `search`, only those with a search term
    /// starting with it. Driven by the (small) table of such keys, not by the people.
    pub fn still_using_stopped_keys(
        conn: &mut DbConnection,
        since: NaiveDateTime,
        search: Option<&str>,
        after: Option<UserId>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut owners = stale_key_uses::table
            .inner_join(api_keys::table)
            .filter(stale_key_uses::last_at.ge(since))
            .select(api_keys::user_id)
            .distinct()
            .order(api_keys::user_id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            owners = owners.filter(api_keys::user_id.lt(after));
        }
        if let Some(search) = search {
            let upper = format!("{search}\u{10FFFF}");
            owners = owners.filter(diesel::dsl::exists(
                terms::table
                    .filter(terms::user_id.eq(api_keys::user_id))
                    .filter(terms::term.ge(search.to_owned()))
                    .filter(terms::term.lt(upper)),
            ));
        }
        let ids: Vec<UserId> = owners.load(conn)?;
        let people = users::table
            .filter(users::id.eq_any(&ids))
            .select(UserSummary::as_select())
            .order(users::id.desc())
            .load(conn)?;
        Self::with_keys(conn, people)
    }

    /// Each person's live keys and their last use, in one query for the page.
    fn with_keys(conn: &mut DbConnection, people: Vec<UserSummary>) -> QueryResult<Vec<Self>> {
        let ids: Vec<UserId> = people.iter().map(|p| p.id).collect();
        let mut keys: HashMap<UserId, (Vec<String>, Option<NaiveDateTime>)> = HashMap::new();
        let rows = api_keys::table
            .filter(api_keys::user_id.eq_any(&ids))
            .filter(api_keys::revoked_at.is_null())
            .order(api_keys::id.asc())
            .select((api_keys::user_id, api_keys::prefix, api_keys::last_used_at))
            .load::<(UserId, String, Option<NaiveDateTime>)>(conn)?;
        for (id, prefix, used) in rows {
            let (prefixes, last) = keys.entry(id).or_default();
            prefixes.push(prefix);
            *last = (*last).max(used);
        }
        Ok(people
            .into_iter()
            .map(|user| {
                let (prefixes, last_used_at) = keys.remove(&user.id).unwrap_or_default();
                Self {
                    user,
                    prefixes,
                    last_used_at,
                }
            })
            .collect())
    }
}
