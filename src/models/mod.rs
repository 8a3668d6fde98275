//! One file per table: the row struct, its `New*`, and its queries. Models return diesel's
//! `QueryResult`; they know nothing of HTTP.

pub mod access_listing;
pub mod account_link;
pub mod api_key;
pub mod audit_event;
pub mod company;
pub mod contact;
pub mod delivery;
pub mod demo_history;
pub mod job;
pub mod key_policy;
pub mod key_usage;
pub mod mail;
#[cfg(test)]
pub(crate) mod query_plan;
pub mod session;
pub mod setup_token;
pub mod sign_in_limit;
pub mod user;
pub mod webhook;

pub use access_listing::{AccessListing, UserSummary};
pub use api_key::{ApiKeyRow, KeyAccess, NewApiKey, RevokeReason};
pub use audit_event::{AuditAction, AuditEvent, NewAuditEvent};
pub use delivery::DeliveryId;
pub use key_policy::{KeyPolicyRow, WhoMayEnable};
pub use user::{AccountState, NewUser, Role, User, UserId};
pub use webhook::{
    Entity, NewWebhook, OperationType, Webhook, WebhookChanges, WebhookId, WebhookStatus,
};

/// How each kind of record is stored: the same five queries for contacts, companies and jobs.
pub trait RecordTable: serde::Serialize + Send + Sized + 'static {
    /// What a validated change writes: for an insert (required fields present) and an update
    /// (any subset).
    type Changes: Send + 'static;

    fn id(&self) -> i64;
    fn find(conn: &mut crate::db::DbConnection, id: i64) -> diesel::QueryResult<Option<Self>>;
    /// Oldest first, after the record `after`.
    fn page(
        conn: &mut crate::db::DbConnection,
        after: Option<i64>,
        limit: i64,
    ) -> diesel::QueryResult<Vec<Self>>;
    /// Inserts from validated fields.
    fn insert(
        conn: &mut crate::db::DbConnection,
        fields: &Self::Changes,
        by: UserId,
        at: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<Self>;
    fn update(
        conn: &mut crate::db::DbConnection,
        id: i64,
        fields: &Self::Changes,
        by: UserId,
        at: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<Option<Self>>;
    fn delete(conn: &mut crate::db::DbConnection, id: i64) -> diesel::QueryResult<usize>;
}

/// The queries that are the same for every kind of record, given its table: inside
/// `impl RecordTable`, beside the record's own `insert`.
macro_rules! record_queries {
    ($table:ident) => {
        fn id(&self) -> i64 {
            self.id
        }

        fn find(conn: &mut crate::db::DbConnection, id: i64) -> diesel::QueryResult<Option<Self>> {
            $table::table
                .find(id)
                .select(Self::as_select())
                .first(conn)
                .optional()
        }

        fn page(
            conn: &mut crate::db::DbConnection,
            after: Option<i64>,
            limit: i64,
        ) -> diesel::QueryResult<Vec<Self>> {
            $table::table
                .filter($table::id.gt(after.unwrap_or(0)))
                .order($table::id.asc())
                .limit(limit)
                .select(Self::as_select())
                .load(conn)
        }

        fn update(
            conn: &mut crate::db::DbConnection,
            id: i64,
            fields: &Self::Changes,
            by: super::UserId,
            at: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<Option<Self>> {
            diesel::update($table::table.find(id))
                .set((fields, $table::updated_by.eq(by), $table::updated_at.eq(at)))
                .execute(conn)?;
            <Self as super::RecordTable>::find(conn, id)
        }

        fn delete(conn: &mut crate::db::DbConnection, id: i64) -> diesel::QueryResult<usize> {
            diesel::delete($table::table.find(id)).execute(conn)
        }
    };
}
pub(crate) use record_queries;

/// Times in JSON: RFC 3339 in UTC with a `Z`, as programs expect (`2026-11-26T07:00:00.123Z`).
pub(crate) fn utc<S: serde::Serializer>(
    t: &chrono::NaiveDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(
        &t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// An optional time in JSON: as `utc`, or `null`.
pub(crate) fn utc_or_null<S: serde::Serializer>(
    t: &Option<chrono::NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => utc(t, serializer),
        None => serializer.serialize_none(),
    }
}

/// A table's id as its own type (stored as BIGINT, shown and serialized as the number), so
/// one kind of id cannot be passed where another is meant.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            diesel_derive_newtype::DieselNewType,
            serde::Serialize,
        )]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use id_type;

/// An enum stored as text (with a CHECK constraint in the migrations), readable and writable on
/// every backend through `String`'s own conversions.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("`{other}` is not a valid {}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                Ok(String::from_sql(bytes)?.parse()?)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }
    };
}
pub(crate) use text_enum;
