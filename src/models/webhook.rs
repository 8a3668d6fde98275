use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::webhooks;

super::text_enum! {
    /// The kind of record a webhook is about.
    #[derive(Serialize, serde::Deserialize, utoipa::ToSchema)]
    Entity { Contact = "Contact", Company = "Company", Job = "Job" }
}

super::text_enum! {
    /// The change to a record that a webhook is about.
    #[derive(Serialize, serde::Deserialize, utoipa::ToSchema)]
    OperationType { Create = "Create", Update = "Update", Delete = "Delete" }
}

super::text_enum! {
    /// A webhook that is Off sends nothing.
    #[derive(Serialize, serde::Deserialize, utoipa::ToSchema)]
    WebhookStatus { On = "On", Off = "Off" }
}

super::id_type! {
    /// A webhook's id.
    WebhookId
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Webhook {
    pub id: WebhookId,
    pub user_id: UserId,
    pub url: String,
    pub entity: Entity,
    pub operation_type: OperationType,
    pub status: WebhookStatus,
    pub secret: String,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook<'a> {
    pub user_id: UserId,
    pub url: &'a str,
    pub entity: Entity,
    pub operation_type: OperationType,
    pub status: WebhookStatus,
    pub secret: &'a str,
    pub created_at: NaiveDateTime,
}

/// What a PATCH may change; absent fields stay as they are.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub entity: Option<Entity>,
    pub operation_type: Option<OperationType>,
    pub status: Option<WebhookStatus>,
    /// `Some(None)` clears why keyport turned it off (when someone turns it on again).
    pub disabled_reason: Option<Option<String>>,
    /// `Some(None)` forgets a failing streak (when someone turns it on again).
    pub failing_since: Option<Option<NaiveDateTime>>,
}

impl NewWebhook<'_> {
    /// Inserts many webhooks in one statement (seeding at scale).
    pub fn insert_all(conn: &mut DbConnection, hooks: &[NewWebhook]) -> QueryResult<usize> {
        crate::on_backend!(conn, |c| diesel::insert_into(webhooks::table)
            .values(hooks)
            .execute(c))
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Webhook> {
        diesel::insert_into(webhooks::table)
            .values(self)
            .returning((
                webhooks::id,
                webhooks::user_id,
                webhooks::url,
                webhooks::entity,
                webhooks::operation_type,
                webhooks::status,
                webhooks::secret,
                webhooks::disabled_reason,
                webhooks::created_at,
            ))
            .get_result(conn)
    }
}

impl Webhook {
    /// The webhooks that send for this kind of change right now: On, and their owner's API
    /// Access on.
    pub fn sending_for(
        conn: &mut DbConnection,
        entity: Entity,
        operation: OperationType,
    ) -> QueryResult<Vec<WebhookId>> {
        use crate::db::schema::users;
        webhooks::table
            .inner_join(users::table)
            .filter(users::api_access_at.is_not_null())
            .filter(users::disabled_at.is_null())
            .filter(webhooks::entity.eq(entity))
            .filter(webhooks::operation_type.eq(operation))
            .filter(webhooks::status.eq(WebhookStatus::On))
            .select(webhooks::id)
            .load(conn)
    }

    /// A webhook and its owner, whoever that is (the worker's alerts).
    pub fn with_owner(
        conn: &mut DbConnection,
        id: WebhookId,
    ) -> QueryResult<Option<(Webhook, super::User)>> {
        use crate::db::schema::users;
        webhooks::table
            .inner_join(users::table)
            .filter(webhooks::id.eq(id))
            .select((Webhook::as_select(), super::User::as_select()))
            .first(conn)
            .optional()
    }

    /// The user's webhook with this id; another user's is None, as if it did not exist.
    pub fn find_owned(
        conn: &mut DbConnection,
        user: UserId,
        id: WebhookId,
    ) -> QueryResult<Option<Webhook>> {
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::user_id.eq(user))
            .select(Webhook::as_select())
            .first(conn)
            .optional()
    }

    pub fn update_owned(
        conn: &mut DbConnection,
        user: UserId,
        id: WebhookId,
        changes: &WebhookChanges,
    ) -> QueryResult<usize> {
        diesel::update(
            webhooks::table
                .filter(webhooks::id.eq(id))
                .filter(webhooks::user_id.eq(user)),
        )
        .set(changes)
        .execute(conn)
    }

    /// After a failed attempt: when the webhook started failing (set now if it was not).
    pub fn note_failure(
        conn: &mut DbConnection,
        id: WebhookId,
        at: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        diesel::update(
            webhooks::table
                .find(id)
                .filter(webhooks::failing_since.is_null()),
        )
        .set(webhooks::failing_since.eq(at))
        .execute(conn)?;
        webhooks::table
            .find(id)
            .select(webhooks::failing_since)
            .first(conn)
    }

    /// After a successful attempt: no longer failing.
    pub fn note_success(conn: &mut DbConnection, id: WebhookId) -> QueryResult<usize> {
        diesel::update(
            webhooks::table
                .find(id)
                .filter(webhooks::failing_since.is_not_null()),
        )
        .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)
    }

    /// keyport turns a webhook off by itself (410 Gone, failing too long) and says why.
    /// keyport turns an On webhook off, saying why; how many it turned off (0: it was Off).
    pub fn turn_off(conn: &mut DbConnection, id: WebhookId, reason: &str) -> QueryResult<usize> {
        diesel::update(
            webhooks::table
                .find(id)
                .filter(webhooks::status.eq(WebhookStatus::On)),
        )
        .set((
            webhooks::status.eq(WebhookStatus::Off),
            webhooks::disabled_reason.eq(reason),
        ))
        .execute(conn)
    }

    pub fn delete_owned(
        conn: &mut DbConnection,
        user: UserId,
        id: WebhookId,
    ) -> QueryResult<usize> {
        diesel::delete(
            webhooks::table
                .filter(webhooks::id.eq(id))
                .filter(webhooks::user_id.eq(user)),
        )
        .execute(conn)
    }

    /// The webhooks subscribed to a user, oldest first (the order they were added).
    pub fn for_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<Webhook>> {
        webhooks::table
            .filter(webhooks::user_id.eq(user))
            .order(webhooks::id.asc())
            .select(Webhook::as_select())
            .load(conn)
    }
}
