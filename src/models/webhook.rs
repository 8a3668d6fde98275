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
    /// Failing without a success since then (while On).
    pub failing_since: Option<NaiveDateTime>,
    /// On, but its owner's API Access is off or their account disabled (kept by the database).
    pub paused: bool,
    /// How troubled it is, for ordering lists (kept by the database): see `Health`.
    pub trouble: i16,
    /// The last failed attempt, in plain words.
    pub last_error: Option<String>,
    pub last_delivered_at: Option<NaiveDateTime>,
}

/// Where a webhook stands, most troubled first, as the database keeps it (`trouble`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// On and sending, and its deliveries have failed since `failing_since`.
    Failing = 0,
    /// Turned off by keyport (410 Gone, or failing too long): `disabled_reason` says why.
    TurnedOff = 1,
    /// On, but nothing is sent: the owner's API Access is off or their account disabled.
    Paused = 2,
    Healthy = 3,
    /// Turned off by a person.
    Off = 4,
}

impl Health {
    pub const ALL: [Health; 5] = [
        Health::Failing,
        Health::TurnedOff,
        Health::Paused,
        Health::Healthy,
        Health::Off,
    ];

    pub fn of(trouble: i16) -> Health {
        Health::ALL
            .into_iter()
            .find(|h| *h as i16 == trouble)
            .unwrap_or(Health::Healthy)
    }
}

impl Webhook {
    pub fn health(&self) -> Health {
        Health::of(self.trouble)
    }
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

    /// Inserts the webhook; the row as the database left it (its health is set by a trigger,
    /// after the insert on SQLite, so it is read back rather than returned).
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Webhook> {
        let id: WebhookId = diesel::insert_into(webhooks::table)
            .values(self)
            .returning(webhooks::id)
            .get_result(conn)?;
        webhooks::table
            .find(id)
            .select(Webhook::as_select())
            .first(conn)
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

    /// After a failed attempt (`error` in plain words): when the webhook started failing (set
    /// now if it was not).
    pub fn note_failure(
        conn: &mut DbConnection,
        id: WebhookId,
        at: NaiveDateTime,
        error: &str,
    ) -> QueryResult<Option<NaiveDateTime>> {
        diesel::update(webhooks::table.find(id))
            .set(webhooks::last_error.eq(error))
            .execute(conn)?;
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

    /// After a successful attempt: delivered at `at`, no longer failing.
    pub fn note_success(
        conn: &mut DbConnection,
        id: WebhookId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(webhooks::table.find(id))
            .set(webhooks::last_delivered_at.eq(at))
            .execute(conn)?;
        diesel::update(
            webhooks::table
                .find(id)
                .filter(webhooks::failing_since.is_not_null()),
        )
        .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)
    }

    /// Adds attempts to the webhook's hour (several instances add up).
    pub fn count_hour(
        conn: &mut DbConnection,
        id: WebhookId,
        at: NaiveDateTime,
        delivered: i64,
        failed: i64,
    ) -> QueryResult<()> {
        use crate::db::schema::webhook_hours as hours;
        use diesel::upsert::excluded;
        let hour = at
            .date()
            .and_hms_opt(chrono::Timelike::hour(&at), 0, 0)
            .unwrap_or(at);
        let row = (
            hours::webhook_id.eq(id),
            hours::hour.eq(hour),
            hours::delivered.eq(delivered),
            hours::failed.eq(failed),
        );
        crate::on_backend!(conn, |c| diesel::insert_into(hours::table)
            .values(row)
            .on_conflict((hours::webhook_id, hours::hour))
            .do_update()
            .set((
                hours::delivered.eq(hours::delivered + excluded(hours::delivered)),
                hours::failed.eq(hours::failed + excluded(hours::failed)),
            ))
            .execute(c))
        .map(drop)
    }

    /// Drops the hours before `before`: only the last day's are read.
    pub fn forget_hours_before(
        conn: &mut DbConnection,
        before: NaiveDateTime,
    ) -> QueryResult<usize> {
        use crate::db::schema::webhook_hours as hours;
        diesel::delete(hours::table.filter(hours::hour.lt(before))).execute(conn)
    }

    /// Attempts delivered and failed since `since`, for each of these webhooks that had any:
    /// at most one row an hour a webhook is read.
    pub fn attempts_since(
        conn: &mut DbConnection,
        ids: &[WebhookId],
        since: NaiveDateTime,
    ) -> QueryResult<std::collections::HashMap<WebhookId, (i64, i64)>> {
        use crate::db::schema::webhook_hours as hours;
        let rows: Vec<(WebhookId, i64, i64)> = hours::table
            .filter(hours::webhook_id.eq_any(ids))
            .filter(hours::hour.ge(since))
            .select((hours::webhook_id, hours::delivered, hours::failed))
            .load(conn)?;
        let mut totals = std::collections::HashMap::new();
        for (id, delivered, failed) in rows {
            let total: &mut (i64, i64) = totals.entry(id).or_default();
            total.0 += delivered;
            total.1 += failed;
        }
        Ok(totals)
    }

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

/// One row of the overview of every webhook: the webhook and its owner.
pub struct Listed {
    pub webhook: Webhook,
    pub owner: UserId,
    pub owner_name: String,
    pub owner_email: String,
}

impl Webhook {
    /// Webhooks of any owner with one of these `troubles` (all when empty), whose address
    /// (the URL without its scheme) or owner's name or email starts with `search`: the most
    /// troubled first, then oldest first, after `after` (its trouble and id). Walks the index
    /// on (trouble, id); a search narrows by the address index and the owners' search terms.
    pub fn overview(
        conn: &mut DbConnection,
        troubles: &[i16],
        search: Option<&str>,
        after: Option<(i16, WebhookId)>,
        limit: i64,
    ) -> QueryResult<Vec<Listed>> {
        use crate::db::schema::{user_search_terms as terms, users};
        let mut query = webhooks::table
            .inner_join(users::table)
            .select((Webhook::as_select(), users::id, users::name, users::email))
            .order((webhooks::trouble.asc(), webhooks::id.asc()))
            .limit(limit)
            .into_boxed();
        if !troubles.is_empty() {
            query = query.filter(webhooks::trouble.eq_any(troubles.to_vec()));
        }
        if let Some(search) = search {
            let upper = format!("{search}\u{10FFFF}");
            let owners = terms::table
                .filter(terms::term.ge(search.to_owned()))
                .filter(terms::term.lt(upper.clone()))
                .select(terms::user_id);
            query = query.filter(
                webhooks::address
                    .ge(search.to_owned())
                    .and(webhooks::address.lt(upper))
                    .or(webhooks::user_id.eq_any(owners)),
            );
        }
        if let Some((trouble, id)) = after {
            query = query.filter(
                webhooks::trouble
                    .gt(trouble)
                    .or(webhooks::trouble.eq(trouble).and(webhooks::id.gt(id))),
            );
        }
        Ok(query
            .load::<(Webhook, UserId, String, String)>(conn)?
            .into_iter()
            .map(|(webhook, owner, owner_name, owner_email)| Listed {
                webhook,
                owner,
                owner_name,
                owner_email,
            })
            .collect())
    }

    /// The webhook's place in the overview's order, for the next page's cursor.
    pub fn trouble_of(conn: &mut DbConnection, id: WebhookId) -> QueryResult<Option<i16>> {
        webhooks::table
            .find(id)
            .select(webhooks::trouble)
            .first(conn)
            .optional()
    }

    /// How many webhooks are in this trouble now (by the index).
    pub fn count_in(conn: &mut DbConnection, trouble: i16) -> QueryResult<i64> {
        webhooks::table
            .filter(webhooks::trouble.eq(trouble))
            .count()
            .get_result(conn)
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::{BigInt, SmallInt, Timestamp};

    use super::*;
    use crate::db::schema::webhook_hours;
    use crate::models::query_plan::{database, plan};

    fn uses(plan: &[String], index: &str) -> bool {
        plan.iter().any(|step| step.contains(index))
    }

    /// The overview of every webhook reads indexes, however many webhooks there are: the page
    /// walks (trouble, id) in order, and the last day's attempts come from the hours of the
    /// page's webhooks only.
    #[test]
    fn the_overview_reads_by_index() {
        let (_dir, db) = database();
        let mut conn = db.get().expect("conn");
        let page = webhooks::table
            .inner_join(crate::db::schema::users::table)
            .filter(webhooks::trouble.eq_any(vec![0i16]))
            .select(webhooks::id)
            .order((webhooks::trouble.asc(), webhooks::id.asc()))
            .limit(51);
        let steps = plan(&mut conn, &page, |q| {
            q.bind::<SmallInt, _>(0i16).bind::<BigInt, _>(51i64)
        });
        assert!(uses(&steps, "USING INDEX webhooks_trouble"), "{steps:?}");
        assert!(
            !uses(&steps, "TEMP B-TREE"),
            "the index gives the order: {steps:?}"
        );

        let everything = webhooks::table
            .inner_join(crate::db::schema::users::table)
            .select(webhooks::id)
            .order((webhooks::trouble.asc(), webhooks::id.asc()))
            .limit(51);
        let steps = plan(&mut conn, &everything, |q| q.bind::<BigInt, _>(51i64));
        assert!(uses(&steps, "webhooks_trouble"), "{steps:?}");
        assert!(!uses(&steps, "TEMP B-TREE"), "{steps:?}");

        let hours = webhook_hours::table
            .filter(webhook_hours::webhook_id.eq_any(vec![WebhookId(1)]))
            .filter(webhook_hours::hour.ge(crate::db::now()))
            .select((
                webhook_hours::webhook_id,
                webhook_hours::delivered,
                webhook_hours::failed,
            ));
        let steps = plan(&mut conn, &hours, |q| {
            q.bind::<BigInt, _>(1i64)
                .bind::<Timestamp, _>(crate::db::now())
        });
        assert!(
            uses(&steps, "USING PRIMARY KEY") || uses(&steps, "sqlite_autoindex_webhook_hours"),
            "{steps:?}"
        );
    }
}
