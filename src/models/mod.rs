//! One file per table: the row struct, its `New*`, and its queries. Models return diesel's
//! `QueryResult`; they know nothing of HTTP.

pub mod api_key;
pub mod audit_event;
pub mod company;
pub mod contact;
pub mod delivery;
pub mod job;
pub mod session;
pub mod setup_token;
pub mod user;
pub mod webhook;

pub use api_key::{ActiveKeyListing, ApiKeyRow, NewApiKey, RevokeReason};
pub use audit_event::{AuditAction, AuditEvent, NewAuditEvent};
pub use user::{NewUser, Role, User, UserId};
pub use webhook::{Entity, NewWebhook, OperationType, Webhook, WebhookChanges, WebhookStatus};

/// How each kind of record is stored: the same five queries for contacts, companies and jobs.
pub trait RecordTable: serde::Serialize + Send + Sized + 'static {
    /// The fields a program sends, for POST (required ones present) and PATCH (any subset).
    type Fields: serde::de::DeserializeOwned + Send + 'static;

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
        fields: &Self::Fields,
        by: UserId,
        at: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<Self>;
    fn update(
        conn: &mut crate::db::DbConnection,
        id: i64,
        fields: &Self::Fields,
        by: UserId,
        at: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<Option<Self>>;
    fn delete(conn: &mut crate::db::DbConnection, id: i64) -> diesel::QueryResult<usize>;
}

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

/// For PATCH bodies: an absent field is `None` (leave it), `null` is `Some(None)` (clear it).
pub(crate) fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// A reference to a record, for PATCH semantics like `double_option`. JSON Schema's `integer`
/// includes `7.0`, so a whole number written as a float is taken too.
pub(crate) fn nullable_id<'de, D>(deserializer: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Id;
    impl serde::de::Visitor<'_> for Id {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer id")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("the id is too large"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            // Exactly representable whole numbers only: |v| < 2^63.
            if v.fract() == 0.0 && v.abs() < 9.223_372_036_854_776e18 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("{v} is not an integer id")))
            }
        }
    }
    struct NullableId;
    impl<'de> serde::de::Visitor<'de> for NullableId {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer id or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Id).map(Some)
        }
    }
    deserializer.deserialize_option(NullableId).map(Some)
}

/// For fields that may be left out but not sent as `null`.
pub(crate) fn not_null<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

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
