use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use super::webhook::{Entity, OperationType, WebhookId};
use crate::db::DbConnection;
use crate::db::schema::{deliveries, delivery_attempts, users, webhook_events, webhooks};

super::text_enum! {
    /// Where a delivery stands: waiting for its next attempt, delivered, or given up on.
    DeliveryState {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
        Cancelled = "cancelled",
    }
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
    pub webhook_id: WebhookId,
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

super::id_type! {
    /// A delivery's id.
    DeliveryId
}

/// A delivery as lists show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: i64,
    pub webhook_id: WebhookId,
    pub message_id: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl Delivery {
    /// A webhook's deliveries with their event type, newest first, before the delivery
    /// `before`, only those in `state` when given.
    pub fn for_webhook(
        conn: &mut DbConnection,
        webhook: WebhookId,
        state: Option<DeliveryState>,
        before: Option<DeliveryId>,
        limit: i64,
    ) -> QueryResult<Vec<(Delivery, String)>> {
        let mut query = deliveries::table
            .inner_join(webhook_events::table)
            .filter(deliveries::webhook_id.eq(webhook))
            .order(deliveries::id.desc())
            .limit(limit)
            .select((Delivery::as_select(), webhook_events::event_type))
            .into_boxed();
        if let Some(state) = state {
            query = query.filter(deliveries::state.eq(state));
        }
        if let Some(before) = before {
            query = query.filter(deliveries::id.lt(before));
        }
        query.load(conn)
    }

    /// Sends a finished delivery again: same event, same `webhook-id`, a fresh retry schedule.
    /// Returns 0 when it is still pending.
    pub fn redeliver(
        conn: &mut DbConnection,
        webhook: WebhookId,
        id: DeliveryId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            deliveries::table
                .filter(deliveries::id.eq(id))
                .filter(deliveries::webhook_id.eq(webhook))
                .filter(deliveries::state.ne(DeliveryState::Pending)),
        )
        .set((
            deliveries::state.eq(DeliveryState::Pending),
            deliveries::attempts.eq(0),
            deliveries::next_attempt_at.eq(at),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
    }

    pub fn exists(
        conn: &mut DbConnection,
        webhook: WebhookId,
        id: DeliveryId,
    ) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            deliveries::table
                .filter(deliveries::id.eq(id))
                .filter(deliveries::webhook_id.eq(webhook)),
        ))
        .get_result(conn)
    }
}

/// Everything one attempt needs, read when the delivery is claimed.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryJob {
    pub delivery_id: DeliveryId,
    pub message_id: String,
    pub attempts: i32,
    pub event_type: String,
    pub event_created_at: NaiveDateTime,
    pub data: String,
    pub webhook_id: WebhookId,
    pub url: String,
    pub secret: String,
    pub status: super::WebhookStatus,
    /// Since when the owner's API Access is on, if it is.
    pub owner_api_access_at: Option<NaiveDateTime>,
    /// When the owner's account was turned off, if it is.
    pub owner_disabled_at: Option<NaiveDateTime>,
}

impl DeliveryJob {
    /// Whether this delivery may be sent: the webhook is On, and its owner's API Access is on
    /// and their account is not turned off (someone who has left receives nothing).
    pub fn sends(&self) -> bool {
        self.status == super::WebhookStatus::On
            && self.owner_api_access_at.is_some()
            && self.owner_disabled_at.is_none()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = delivery_attempts)]
pub struct NewAttempt<'a> {
    pub delivery_id: DeliveryId,
    pub attempted_at: NaiveDateTime,
    pub response_status: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<&'a str>,
    pub response_body: Option<&'a str>,
    pub succeeded: bool,
}

impl NewAttempt<'_> {
    /// Records many attempts in one statement (a batch of deliveries).
    pub fn insert_all(conn: &mut DbConnection, attempts: &[NewAttempt]) -> QueryResult<usize> {
        crate::on_backend!(conn, |c| diesel::insert_into(delivery_attempts::table)
            .values(attempts)
            .execute(c))
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        diesel::insert_into(delivery_attempts::table)
            .values(self)
            .execute(conn)
    }
}

/// One attempt as the pages show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = delivery_attempts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Attempt {
    pub id: i64,
    pub delivery_id: DeliveryId,
    pub attempted_at: NaiveDateTime,
    pub response_status: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_body: Option<String>,
    pub succeeded: bool,
}

impl Attempt {
    /// The attempts of these deliveries, oldest first: one query for a whole page.
    pub fn for_deliveries(
        conn: &mut DbConnection,
        ids: &[DeliveryId],
    ) -> QueryResult<Vec<Attempt>> {
        delivery_attempts::table
            .filter(delivery_attempts::delivery_id.eq_any(ids))
            .order(delivery_attempts::id.asc())
            .select(Attempt::as_select())
            .load(conn)
    }

    /// When each of a webhook's attempts since `since` happened and whether it succeeded, for
    /// the chart; at most `limit` of the newest.
    pub fn outcomes_since(
        conn: &mut DbConnection,
        webhook: WebhookId,
        since: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<(NaiveDateTime, bool)>> {
        delivery_attempts::table
            .inner_join(deliveries::table)
            .filter(deliveries::webhook_id.eq(webhook))
            .filter(delivery_attempts::attempted_at.ge(since))
            .order(delivery_attempts::id.desc())
            .limit(limit)
            .select((
                delivery_attempts::attempted_at,
                delivery_attempts::succeeded,
            ))
            .load(conn)
    }
}

impl Delivery {
    /// The queue for `/metrics`: pending deliveries, those due now, the oldest pending one's
    /// creation and the longest-due one's due time.
    pub fn queue(
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> QueryResult<(i64, i64, Option<NaiveDateTime>, Option<NaiveDateTime>)> {
        use diesel::dsl::{count_star, min};
        let pending = deliveries::table.filter(deliveries::state.eq(DeliveryState::Pending));
        let (all, oldest) = pending
            .select((count_star(), min(deliveries::created_at)))
            .first(conn)?;
        let (due, longest_due) = pending
            .filter(deliveries::next_attempt_at.le(now))
            .select((count_star(), min(deliveries::next_attempt_at)))
            .first::<(i64, Option<NaiveDateTime>)>(conn)?;
        Ok((all, due, oldest, longest_due))
    }

    /// Whether any delivery is due: a look without locks, for an idle worker's poll.
    pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(unclaimed_due(now))).get_result(conn)
    }

    /// Claims up to `limit` due deliveries that no worker holds, oldest first, for this worker
    /// until `until` (the lease). Call it in a write transaction. On PostgreSQL the rows are
    /// taken `FOR UPDATE SKIP LOCKED`, so workers of other instances claiming at the same
    /// moment pass over them and take the next ones instead of waiting; on SQLite the write
    /// transaction already makes the claimer the only writer.
    pub fn claim_due(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        until: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<DeliveryId>> {
        let due = unclaimed_due(now)
            .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
            .limit(limit)
            .select(deliveries::id);
        let ids: Vec<DeliveryId> = match conn {
            DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        if !ids.is_empty() {
            diesel::update(deliveries::table.filter(deliveries::id.eq_any(&ids)))
                .set(deliveries::locked_until.eq(until))
                .execute(conn)?;
        }
        Ok(ids)
    }

    /// What sending these deliveries needs, in one query.
    pub fn jobs(conn: &mut DbConnection, ids: &[DeliveryId]) -> QueryResult<Vec<DeliveryJob>> {
        deliveries::table
            .inner_join(webhook_events::table)
            .inner_join(webhooks::table.inner_join(users::table))
            .filter(deliveries::id.eq_any(ids))
            .select((
                deliveries::id,
                deliveries::message_id,
                deliveries::attempts,
                webhook_events::event_type,
                webhook_events::created_at,
                webhook_events::data,
                webhooks::id,
                webhooks::url,
                webhooks::secret,
                webhooks::status,
                users::api_access_at,
                users::disabled_at,
            ))
            .load(conn)
    }

    /// Marks these deliveries made, each after one more attempt: one statement for a batch.
    pub fn settle_delivered(
        conn: &mut DbConnection,
        ids: &[DeliveryId],
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(ids)))
            .set((
                deliveries::attempts.eq(deliveries::attempts + 1),
                deliveries::state.eq(DeliveryState::Delivered),
                deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
                deliveries::locked_until.eq(None::<NaiveDateTime>),
                deliveries::finished_at.eq(Some(at)),
            ))
            .execute(conn)
    }

    /// Hands deliveries claimed `until` back unsent, for any worker to take at once; those
    /// claimed again since (the claim ran out) are left to their new holder.
    pub fn release(
        conn: &mut DbConnection,
        ids: &[DeliveryId],
        until: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            deliveries::table
                .filter(deliveries::id.eq_any(ids))
                .filter(deliveries::locked_until.eq(until)),
        )
        .set(deliveries::locked_until.eq(None::<NaiveDateTime>))
        .execute(conn)
    }

    /// Ends the delivery in `state` after `attempts` attempts, or schedules the next attempt.
    pub fn settle(
        conn: &mut DbConnection,
        id: DeliveryId,
        attempts: i32,
        state: DeliveryState,
        next_attempt_at: Option<NaiveDateTime>,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        let finished_at = (state != DeliveryState::Pending).then_some(at);
        diesel::update(deliveries::table.find(id))
            .set((
                deliveries::attempts.eq(attempts),
                deliveries::state.eq(state),
                deliveries::next_attempt_at.eq(next_attempt_at),
                deliveries::locked_until.eq(None::<NaiveDateTime>),
                deliveries::finished_at.eq(finished_at),
            ))
            .execute(conn)
    }
}

impl Delivery {
    /// Deliveries waiting (pending) for each of these webhooks that has any: how many, and
    /// since when the oldest (by the index on state, webhook and time).
    pub fn waiting_for(
        conn: &mut DbConnection,
        ids: &[WebhookId],
    ) -> QueryResult<std::collections::HashMap<WebhookId, (i64, Option<NaiveDateTime>)>> {
        use diesel::dsl::{count_star, min};
        let rows: Vec<(WebhookId, i64, Option<NaiveDateTime>)> = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Pending))
            .filter(deliveries::webhook_id.eq_any(ids))
            .group_by(deliveries::webhook_id)
            .select((
                deliveries::webhook_id,
                count_star(),
                min(deliveries::created_at),
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, count, oldest)| (id, (count, oldest)))
            .collect())
    }

    /// Every delivery waiting: how many, and since when the oldest.
    pub fn waiting(conn: &mut DbConnection) -> QueryResult<(i64, Option<NaiveDateTime>)> {
        let count = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Pending))
            .count()
            .get_result(conn)?;
        let oldest = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Pending))
            .select(diesel::dsl::min(deliveries::created_at))
            .first(conn)?;
        Ok((count, oldest))
    }
}

/// Pending deliveries whose time has come and that no worker holds (or whose worker's lease
/// has run out).
#[diesel::dsl::auto_type(no_type_alias)]
fn unclaimed_due(now: NaiveDateTime) -> _ {
    let pending: DeliveryState = DeliveryState::Pending;
    deliveries::table
        .filter(deliveries::state.eq(pending))
        .filter(deliveries::next_attempt_at.le(now))
        .filter(
            deliveries::locked_until
                .is_null()
                .or(deliveries::locked_until.lt(now)),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::query_plan::{database, plan};
    use diesel::sql_types::{BigInt, Text, Timestamp};

    /// The worker's claim finds due deliveries by index, however many are done: it runs with
    /// `state` bound, and SQLite built with the planner stability guarantee does not read
    /// bound values while planning, so a partial index (`WHERE state = 'pending'`) would not
    /// be used and every claim would scan the whole history.
    #[test]
    fn the_claim_finds_due_deliveries_by_index() {
        let (_dir, db) = database();
        let mut conn = db.get().expect("conn");
        let at = crate::db::now();
        let claim = unclaimed_due(at)
            .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
            .limit(16)
            .select(deliveries::id);
        let plan = plan(&mut conn, &claim, |q| {
            q.bind::<Text, _>("pending")
                .bind::<Timestamp, _>(at)
                .bind::<Timestamp, _>(at)
                .bind::<BigInt, _>(16)
        });
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX deliveries_due")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "the index gives the order: {plan:?}"
        );
    }

    /// The deliveries waiting, for a page of webhooks and in all, are counted by index, not
    /// by reading the log.
    #[test]
    fn waiting_deliveries_are_counted_by_index() {
        let (_dir, db) = database();
        let mut conn = db.get().expect("conn");
        let uses = |plan: &[String], index: &str| plan.iter().any(|s| s.contains(index));
        let waiting = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Pending))
            .filter(deliveries::webhook_id.eq_any(vec![WebhookId(1), WebhookId(2)]))
            .group_by(deliveries::webhook_id)
            .select((
                deliveries::webhook_id,
                diesel::dsl::count_star(),
                diesel::dsl::min(deliveries::created_at),
            ));
        let steps = plan(&mut conn, &waiting, |q| {
            q.bind::<Text, _>("pending")
                .bind::<BigInt, _>(1i64)
                .bind::<BigInt, _>(2i64)
        });
        assert!(uses(&steps, "deliveries_waiting"), "{steps:?}");
        assert!(!uses(&steps, "SCAN deliveries"), "{steps:?}");

        let oldest = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Pending))
            .select(diesel::dsl::min(deliveries::created_at));
        let steps = plan(&mut conn, &oldest, |q| q.bind::<Text, _>("pending"));
        assert!(uses(&steps, "deliveries_waiting_age"), "{steps:?}");
    }
}
