use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::webhooks;

super::text_enum! {
    /// The kind of record a webhook is about.
    #[derive(Serialize)]
    Entity { Contact = "Contact", Company = "Company", Job = "Job" }
}

super::text_enum! {
    /// The change to a record that a webhook is about.
    #[derive(Serialize)]
    OperationType { Create = "Create", Update = "Update", Delete = "Delete" }
}

super::text_enum! {
    /// A webhook that is Off sends nothing.
    #[derive(Serialize)]
    WebhookStatus { On = "On", Off = "Off" }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Webhook {
    pub id: i64,
    pub user_id: UserId,
    pub url: String,
    pub entity: Entity,
    pub operation_type: OperationType,
    pub status: WebhookStatus,
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
    pub created_at: NaiveDateTime,
}

impl NewWebhook<'_> {
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
                webhooks::created_at,
            ))
            .get_result(conn)
    }
}

impl Webhook {
    /// The webhooks subscribed to a user, oldest first (the order they were added).
    pub fn for_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<Webhook>> {
        webhooks::table
            .filter(webhooks::user_id.eq(user))
            .order(webhooks::id.asc())
            .select(Webhook::as_select())
            .load(conn)
    }
}
