use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use super::webhook::{Entity, OperationType};
use crate::db::DbConnection;
use crate::db::schema::{deliveries, webhook_events};

super::text_enum! {
    /// Where a delivery stands: waiting for its next attempt, delivered, or given up on.
    DeliveryState { Pending = "pending", Delivered = "delivered", Failed = "failed" }
}

/// A record change, as it will be sent to every webhook subscribed to it.
#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_events)]
pub struct NewWebhookEvent<'a> {
    pub event_type: &'a str,
    pub entity: Entity,
    pub operation_type: OperationType,
    pub record_id: i64,
    pub data: &'a str,
    pub actor_id: Option<UserId>,
    pub created_at: NaiveDateTime,
}

impl NewWebhookEvent<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<i64> {
        diesel::insert_into(webhook_events::table)
            .values(self)
            .returning(webhook_events::id)
            .get_result(conn)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = deliveries)]
pub struct NewDelivery<'a> {
    pub event_id: i64,
    pub webhook_id: i64,
    pub message_id: &'a str,
    pub state: DeliveryState,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl NewDelivery<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        diesel::insert_into(deliveries::table)
            .values(self)
            .execute(conn)
    }
}

/// A delivery as lists show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub webhook_id: i64,
    pub message_id: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl Delivery {
    /// A webhook's deliveries with their event type, newest first.
    pub fn for_webhook(
        conn: &mut DbConnection,
        webhook: i64,
        limit: i64,
    ) -> QueryResult<Vec<(Delivery, String)>> {
        deliveries::table
            .inner_join(webhook_events::table)
            .filter(deliveries::webhook_id.eq(webhook))
            .order(deliveries::id.desc())
            .limit(limit)
            .select((Delivery::as_select(), webhook_events::event_type))
            .load(conn)
    }
}
