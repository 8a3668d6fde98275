use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::{User, UserId};
use crate::db::DbConnection;
use crate::db::schema::{api_keys, users};

super::text_enum! {
    /// Why a key stopped working. Revoked keys stay as history.
    RevokeReason {
        Regenerated = "regenerated",
        TurnedOff = "turned_off",
        Cleared = "cleared",
        Retired = "retired",
        Deleted = "deleted",
        Expired = "expired",
    }
}

/// Why, when and by whom keys stop working.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = api_keys, treat_none_as_null = true)]
pub struct Revocation<'a> {
    pub revoked_at: NaiveDateTime,
    pub revoked_by: UserId,
    pub revoked_reason: RevokeReason,
    pub revoked_note: Option<&'a str>,
}

impl<'a> Revocation<'a> {
    pub fn new(reason: RevokeReason, by: UserId, note: Option<&'a str>, at: NaiveDateTime) -> Self {
        Revocation {
            revoked_at: at,
            revoked_by: by,
            revoked_reason: reason,
            revoked_note: note,
        }
    }
}

/// The name of the key that Enable API Access makes.
pub const DEFAULT_NAME: &str = "Default";

super::text_enum! {
    /// What a key may do: everything its owner may, read everything, or the `scopes` listed.
    KeyAccess { Full = "full", Read = "read", Custom = "custom" }
}

/// A key as the portal shows it: never the secret, only its identifying prefix.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiKeyRow {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub access: KeyAccess,
    /// With `Custom` access: `contacts:write jobs:read`.
    pub scopes: String,
    pub expires_at: Option<NaiveDateTime>,
    /// Regenerated with a grace time: the key works until then.
    pub retires_at: Option<NaiveDateTime>,
    /// The key this one replaced when it was regenerated with a grace time.
    pub replaces: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<UserId>,
    pub revoked_reason: Option<RevokeReason>,
    pub revoked_note: Option<String>,
    /// The addresses and networks it may be used from, one per line; empty: anywhere.
    pub allowed_ips: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a [u8],
    pub access: KeyAccess,
    pub scopes: &'a str,
    pub expires_at: Option<NaiveDateTime>,
    pub replaces: Option<i64>,
    pub created_at: NaiveDateTime,
    pub allowed_ips: &'a str,
}

impl NewApiKey<'_> {
    /// The key Enable API Access makes: `Default`, full access, no expiry (prefix and hash
    /// still to fill in).
    pub fn default_key(user_id: UserId, created_at: NaiveDateTime) -> Self {
        NewApiKey {
            user_id,
            name: DEFAULT_NAME,
            prefix: "",
            key_hash: &[],
            access: KeyAccess::Full,
            scopes: "",
            expires_at: None,
            replaces: None,
            created_at,
            allowed_ips: "",
        }
    }

    /// Inserts many keys in one statement (seeding at scale).
    pub fn insert_all(conn: &mut DbConnection, keys: &[NewApiKey]) -> QueryResult<usize> {
        crate::on_backend!(conn, |c| diesel::insert_into(api_keys::table)
            .values(keys)
            .execute(c))
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<ApiKeyRow> {
        // (`returning` with a Selectable does not reach through diesel's MultiConnection.)
        let id: i64 = diesel::insert_into(api_keys::table)
            .values(self)
            .returning(api_keys::id)
            .get_result(conn)?;
        api_keys::table
            .find(id)
            .select(ApiKeyRow::as_select())
            .first(conn)
    }
}

impl ApiKeyRow {
    /// The user's newest key that is not revoked (the only one, in the seed's story).
    pub fn active_for_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Option<Self>> {
        api_keys::table
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::revoked_at.is_null())
            .order(api_keys::id.desc())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The user's keys that are not revoked and not past their grace time, oldest first
    /// (expired ones included: the list shows them as Expired).
    pub fn live_for_user(
        conn: &mut DbConnection,
        user: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        api_keys::table
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::revoked_at.is_null())
            .filter(
                api_keys::retires_at
                    .is_null()
                    .or(api_keys::retires_at.gt(at)),
            )
            .order(api_keys::id.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// One of the user's keys, revoked or not.
    pub fn find_for_user(
        conn: &mut DbConnection,
        user: UserId,
        id: i64,
    ) -> QueryResult<Option<Self>> {
        api_keys::table
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Revokes one key if it is not revoked yet; returns whether it did.
    pub fn revoke(conn: &mut DbConnection, id: i64, revocation: &Revocation) -> QueryResult<bool> {
        diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(revocation)
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Starts a key's grace time, if it is live and not retiring already; returns whether it
    /// did.
    pub fn start_retiring(
        conn: &mut DbConnection,
        id: i64,
        until: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(id))
                .filter(api_keys::revoked_at.is_null())
                .filter(api_keys::retires_at.is_null()),
        )
        .set(api_keys::retires_at.eq(until))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Marks the user's keys that expired or finished retiring by `at` as revoked, so that
    /// their names may be used again and they leave the list.
    pub fn revoke_lapsed(
        conn: &mut DbConnection,
        user: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        let lapsed = api_keys::table
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::revoked_at.is_null());
        let expired = diesel::update(lapsed.filter(api_keys::expires_at.le(at)))
            .set((
                api_keys::revoked_at.eq(api_keys::expires_at),
                api_keys::revoked_reason.eq(RevokeReason::Expired),
            ))
            .execute(conn)?;
        let retired = diesel::update(lapsed.filter(api_keys::retires_at.le(at)))
            .set((
                api_keys::revoked_at.eq(api_keys::retires_at),
                api_keys::revoked_reason.eq(RevokeReason::Retired),
            ))
            .execute(conn)?;
        Ok(expired + retired)
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

    /// How a key that no longer works stopped, as a word before "key": "regenerated".
    pub fn how_stopped(&self) -> &'static str {
        match self.revoked_reason {
            Some(RevokeReason::Regenerated) => "regenerated",
            Some(RevokeReason::TurnedOff) => "turned-off",
            Some(RevokeReason::Cleared) => "cleared",
            Some(RevokeReason::Retired) => "retired",
            Some(RevokeReason::Deleted) => "deleted",
            Some(RevokeReason::Expired) => "expired",
            // Not revoked yet: its grace time ended (it was regenerated), or it expired.
            None if self.retires_at.is_some() => "regenerated",
            None => "expired",
        }
    }

    /// The key with this hash, working or not (revoked keys keep their hash, so a use of
    /// one can be told apart from a made-up key), and its owner: one indexed lookup.
    pub fn find_by_hash(conn: &mut DbConnection, hash: &[u8]) -> QueryResult<Option<(Self, User)>> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::key_hash.eq(hash))
            // A turned-off account's key fails, and works again if the account is turned on.
            .filter(users::disabled_at.is_null())
            .select((Self::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    /// Where it may be used from, as people read it: "10.0.0.0/8, ::1"; empty: anywhere.
    pub fn allowed_from(&self) -> String {
        self.allowed_ips.replace('\n', ", ")
    }

    /// Sets the addresses the key may be used from (as `AllowedAddresses` stores them).
    pub fn set_allowed_ips(conn: &mut DbConnection, id: i64, text: &str) -> QueryResult<usize> {
        diesel::update(api_keys::table.find(id))
            .set(api_keys::allowed_ips.eq(text))
            .execute(conn)
    }

    /// The key and its owner.
    pub fn with_owner(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(Self, User)>> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::id.eq(id))
            .select((Self::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    /// Revokes every key of the user that is not revoked yet; returns how many.
    pub fn revoke_active(
        conn: &mut DbConnection,
        user: UserId,
        revocation: &Revocation,
    ) -> QueryResult<usize> {
        diesel::update(
            api_keys::table
                .filter(api_keys::user_id.eq(user))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(revocation)
        .execute(conn)
    }

    /// Live keys that will still work `longer` from `at` (or never expire), oldest first,
    /// with their owners.
    pub fn living_longer_than(
        conn: &mut DbConnection,
        longer: chrono::Duration,
        at: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<(Self, crate::models::UserSummary)>> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::retires_at.is_null())
            .filter(
                api_keys::expires_at
                    .is_null()
                    .or(api_keys::expires_at.gt(at + longer)),
            )
            .order(api_keys::id.asc())
            .limit(limit)
            .select((Self::as_select(), crate::models::UserSummary::as_select()))
            .load(conn)
    }

    /// Keys that are not revoked nor retiring and expire in (`from`, `until`], with their
    /// owners (the expiry reminders' scan).
    pub fn expiring(
        conn: &mut DbConnection,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<(Self, User)>> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::retires_at.is_null())
            .filter(api_keys::expires_at.gt(from))
            .filter(api_keys::expires_at.le(until))
            .filter(users::api_access_at.is_not_null())
            .select((Self::as_select(), User::as_select()))
            .load(conn)
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
}
