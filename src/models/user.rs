use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::db::schema::{user_search_terms, users};

// A person's id. (No doc comment: it would become the OpenAPI schema's description.)
super::id_type! {
    #[derive(utoipa::ToSchema)]
    UserId
}

super::text_enum! {
    /// What a signed-in person may do: support staff read what admins read, and change nothing.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    Role { User = "user", Admin = "admin", Support = "support" }
}

impl Role {
    /// Admins and support staff see Advanced Settings → API Management.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Support)
    }

    /// As the portal names it: Admin, Support, User.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Support => "Support",
            Role::User => "User",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: NaiveDateTime,
    /// Set while an admin has the account turned off.
    pub disabled_at: Option<NaiveDateTime>,
    /// API Access is on since then; off when empty. Keys live under it.
    pub api_access_at: Option<NaiveDateTime>,
    /// Under the key policy "only people an admin has allowed", this person may turn it on.
    pub api_access_allowed: bool,
    /// Notifications beyond security mails (which always go): webhook alerts, expiry
    /// reminders, revoked keys still in use.
    pub notify_webhook_alerts: bool,
    pub notify_expiry: bool,
    pub notify_stale_keys: bool,
    pub last_sign_in_at: Option<NaiveDateTime>,
    /// Invited and not yet accepted: no password yet, so the account cannot sign in.
    pub invited_at: Option<NaiveDateTime>,
}

impl User {
    /// Where the account stands, as People shows it.
    pub fn state(&self) -> AccountState {
        AccountState::of(self.invited_at, self.disabled_at)
    }

    /// An admin who can act: signed up and not disabled.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.state() == AccountState::Active
    }
}

/// Active, invited (not yet accepted) or disabled by an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Active,
    Invited,
    Disabled,
}

impl AccountState {
    pub fn of(invited_at: Option<NaiveDateTime>, disabled_at: Option<NaiveDateTime>) -> Self {
        match (invited_at, disabled_at) {
            (_, Some(_)) => AccountState::Disabled,
            (Some(_), None) => AccountState::Invited,
            (None, None) => AccountState::Active,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountState::Active => "Active",
            AccountState::Invited => "Invited",
            AccountState::Disabled => "Disabled",
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub invited_at: Option<NaiveDateTime>,
}

impl NewUser<'_> {
    /// Inserts the user and the words API Management finds them by.
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<User> {
        // (`returning` with a Selectable does not reach through diesel's MultiConnection.)
        let id: UserId = diesel::insert_into(users::table)
            .values(self)
            .returning(users::id)
            .get_result(conn)?;
        let user = users::table
            .find(id)
            .select(User::as_select())
            .first(conn)?;
        for term in search_terms(self.email, self.name) {
            diesel::insert_into(user_search_terms::table)
                .values((
                    user_search_terms::term.eq(term),
                    user_search_terms::user_id.eq(user.id),
                ))
                .execute(conn)?;
        }
        Ok(user)
    }
}

impl NewUser<'_> {
    /// Inserts many users in one statement (and their search words in another), for seeding
    /// at scale; their ids, by normalized email.
    pub fn insert_all(
        conn: &mut DbConnection,
        users: &[NewUser],
    ) -> QueryResult<std::collections::HashMap<String, UserId>> {
        let ids: std::collections::HashMap<String, UserId> = crate::on_backend!(conn, |c| {
            diesel::insert_into(users::table)
                .values(users)
                .returning((users::email_normalized, users::id))
                .get_results::<(String, UserId)>(c)?
        })
        .into_iter()
        .collect();
        let terms: Vec<_> = users
            .iter()
            .flat_map(|u| {
                let id = ids[u.email_normalized];
                search_terms(u.email, u.name).into_iter().map(move |term| {
                    (
                        user_search_terms::term.eq(term),
                        user_search_terms::user_id.eq(id),
                    )
                })
            })
            .collect();
        crate::on_backend!(conn, |c| {
            diesel::insert_into(user_search_terms::table)
                .values(&terms)
                .execute(c)?
        });
        Ok(ids)
    }
}

/// What a prefix search finds a user by: the email, its domain, the name, and each later
/// word of the name ("hopper" finds Grace Hopper), lower-cased, without repeats.
pub fn search_terms(email: &str, name: &str) -> Vec<String> {
    let email = normalize(email);
    let name = normalize(name);
    let mut terms = vec![email.clone(), name.clone()];
    if let Some((_, domain)) = email.split_once('@') {
        terms.push(domain.to_owned());
    }
    terms.extend(name.split_whitespace().skip(1).map(str::to_owned));
    terms.retain(|t| !t.is_empty());
    terms.sort();
    terms.dedup();
    terms
}

/// Lower-cased text used for case-insensitive uniqueness and prefix search.
pub fn normalize(text: &str) -> String {
    text.trim().to_lowercase()
}

impl User {
    pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email_normalized.eq(normalize(email)))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// Locks the user's row until the transaction ends, so that concurrent changes to one
    /// user's API Access run one after another on PostgreSQL (SQLite's write lock already does).
    /// Returns false when there is no such user.
    pub fn lock(conn: &mut DbConnection, id: UserId) -> QueryResult<bool> {
        diesel::update(users::table.find(id))
            .set(users::id.eq(users::id))
            .execute(conn)
            .map(|n| n == 1)
    }

    pub fn set_disabled(
        conn: &mut DbConnection,
        id: UserId,
        disabled_at: Option<NaiveDateTime>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::disabled_at.eq(disabled_at))
            .execute(conn)
    }

    /// Turns API Access on (since `at`) or off (`None`).
    pub fn set_api_access(
        conn: &mut DbConnection,
        id: UserId,
        at: Option<NaiveDateTime>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::api_access_at.eq(at))
            .execute(conn)
    }

    /// Turns API Access on for many people at once (seeding at scale).
    pub fn turn_on_api_access(
        conn: &mut DbConnection,
        ids: &[UserId],
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.filter(users::id.eq_any(ids)))
            .set(users::api_access_at.eq(at))
            .execute(conn)
    }

    pub fn set_api_access_allowed(
        conn: &mut DbConnection,
        id: UserId,
        allowed: bool,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::api_access_allowed.eq(allowed))
            .execute(conn)
    }

    /// Notes a sign-in; when the one before was, if there was one.
    pub fn note_sign_in(
        conn: &mut DbConnection,
        id: UserId,
        at: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        let before = users::table
            .find(id)
            .select(users::last_sign_in_at)
            .first::<Option<NaiveDateTime>>(conn)?;
        diesel::update(users::table.find(id))
            .set(users::last_sign_in_at.eq(at))
            .execute(conn)?;
        Ok(before)
    }

    /// Which notices beyond security mails the person wants.
    pub fn set_notifications(
        conn: &mut DbConnection,
        id: UserId,
        webhook_alerts: bool,
        expiry: bool,
        stale_keys: bool,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::notify_webhook_alerts.eq(webhook_alerts),
                users::notify_expiry.eq(expiry),
                users::notify_stale_keys.eq(stale_keys),
            ))
            .execute(conn)
    }

    pub fn set_role(conn: &mut DbConnection, id: UserId, role: Role) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::role.eq(role))
            .execute(conn)
    }

    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: UserId,
        password_hash: &str,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(password_hash))
            .execute(conn)
    }

    /// Signs the invited person up: their password, and no longer invited.
    pub fn accept_invitation(
        conn: &mut DbConnection,
        id: UserId,
        password_hash: &str,
    ) -> QueryResult<usize> {
        diesel::update(
            users::table
                .find(id)
                .filter(users::invited_at.is_not_null()),
        )
        .set((
            users::password_hash.eq(password_hash),
            users::invited_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
    }

    /// Removes an invited person who never signed up (Revoke): nothing of theirs exists yet
    /// but their search terms and link, which go with them.
    pub fn delete_invited(conn: &mut DbConnection, id: UserId) -> QueryResult<usize> {
        diesel::delete(
            users::table
                .find(id)
                .filter(users::invited_at.is_not_null()),
        )
        .execute(conn)
    }

    /// Admins who can sign in and act: signed up, not disabled.
    pub fn active_admins(conn: &mut DbConnection) -> QueryResult<i64> {
        users::table
            .filter(users::role.eq(Role::Admin))
            .filter(users::disabled_at.is_null())
            .filter(users::invited_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Serializes changes that could leave keyport without an admin until the transaction
    /// ends: two admins demoting each other at once run one after the other, and the second
    /// sees the first's change. SQLite's write lock already does this; PostgreSQL takes an
    /// advisory lock.
    pub fn lock_admins(conn: &mut DbConnection) -> QueryResult<()> {
        if let DbConnection::Postgresql(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
                .bind::<diesel::sql_types::Integer, _>(crate::db::ADMINS_LOCK)
                .execute(pg)?;
        }
        Ok(())
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        users::table.count().get_result(conn)
    }

    pub fn any_exist(conn: &mut DbConnection) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
    }
}
