//! The mail outbox and its attempts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::{mail_attempts, mails};

super::id_type! {
    MailId
}

super::text_enum! {
    /// Where a mail stands: waiting (or between attempts), accepted by the SMTP server, or
    /// given up with the reason kept.
    MailState { Pending = "pending", Sent = "sent", Failed = "failed" }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mails)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Mail {
    pub id: MailId,
    pub kind: String,
    pub user_id: Option<UserId>,
    pub to_email: String,
    pub to_name: String,
    pub subject: String,
    pub content: String,
    pub state: MailState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = mails)]
pub struct NewMail<'a> {
    pub kind: &'a str,
    pub user_id: Option<UserId>,
    pub to_email: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub content: &'a str,
    pub state: MailState,
    pub next_attempt_at: NaiveDateTime,
    pub once_key: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_attempts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct MailAttempt {
    pub mail_id: MailId,
    pub attempted_at: NaiveDateTime,
    pub ok: bool,
    pub reply: String,
}

impl NewMail<'_> {
    /// Queues the mail; a `once_key` already used queues nothing (returns false): the
    /// database decides, so two instances scanning at once queue it once.
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        crate::on_backend!(conn, |c| diesel::insert_into(mails::table)
            .values(self)
            .on_conflict_do_nothing()
            .execute(c))
        .map(|n| n == 1)
    }
}

diesel::define_sql_function! {
    /// SQL's lower(), the same on SQLite and PostgreSQL for ASCII.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

impl Mail {
    /// Claims up to `limit` due mails until `until`: other workers (on any instance) skip them.
    pub fn claim_due(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        until: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<Mail>> {
        let due = mails::table
            .filter(mails::state.eq(MailState::Pending))
            .filter(mails::next_attempt_at.le(now))
            .filter(
                mails::locked_until
                    .is_null()
                    .or(mails::locked_until.lt(now)),
            )
            .order((mails::next_attempt_at.asc(), mails::id.asc()))
            .limit(limit)
            .select(mails::id);
        let ids: Vec<MailId> = match conn {
            DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(mails::table.filter(mails::id.eq_any(&ids)))
            .set(mails::locked_until.eq(until))
            .execute(conn)?;
        mails::table
            .filter(mails::id.eq_any(&ids))
            .order(mails::id.asc())
            .select(Mail::as_select())
            .load(conn)
    }

    /// Records an attempt and where the mail now stands.
    pub fn settle(
        conn: &mut DbConnection,
        id: MailId,
        at: NaiveDateTime,
        outcome: &Settled,
    ) -> QueryResult<()> {
        diesel::insert_into(mail_attempts::table)
            .values((
                mail_attempts::mail_id.eq(id),
                mail_attempts::attempted_at.eq(at),
                mail_attempts::ok.eq(outcome.state == MailState::Sent),
                mail_attempts::reply.eq(&outcome.reply),
            ))
            .execute(conn)?;
        diesel::update(mails::table.find(id))
            .set((
                mails::state.eq(outcome.state),
                mails::attempts.eq(mails::attempts + 1),
                mails::next_attempt_at.eq(outcome.next_attempt_at.unwrap_or(at)),
                mails::locked_until.eq(None::<NaiveDateTime>),
                mails::last_error
                    .eq((outcome.state != MailState::Sent).then_some(outcome.reply.as_str())),
                mails::sent_at.eq((outcome.state == MailState::Sent).then_some(at)),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Replaces what the mail says (once sent, a one-time link is dropped from it).
    pub fn set_content(conn: &mut DbConnection, id: MailId, content: &str) -> QueryResult<usize> {
        diesel::update(mails::table.find(id))
            .set(mails::content.eq(content))
            .execute(conn)
    }

    /// The newest mails first, before `before`, optionally by state and recipient (start of
    /// the address, lower-cased).
    pub fn recent(
        conn: &mut DbConnection,
        state: Option<MailState>,
        to: Option<&str>,
        before: Option<MailId>,
        limit: i64,
    ) -> QueryResult<Vec<Mail>> {
        let mut query = mails::table
            .order(mails::id.desc())
            .limit(limit)
            .select(Mail::as_select())
            .into_boxed();
        if let Some(state) = state {
            query = query.filter(mails::state.eq(state));
        }
        if let Some(to) = to {
            // Addresses are kept as typed; people search them in any case.
            query = query.filter(lower(mails::to_email).eq(to.to_owned()));
        }
        if let Some(before) = before {
            query = query.filter(mails::id.lt(before));
        }
        query.load(conn)
    }

    pub fn attempts_of(conn: &mut DbConnection, ids: &[MailId]) -> QueryResult<Vec<MailAttempt>> {
        mail_attempts::table
            .filter(mail_attempts::mail_id.eq_any(ids))
            .order(mail_attempts::id.asc())
            .select(MailAttempt::as_select())
            .load(conn)
    }
}

/// What an attempt came to: the state after it, when to try again, and the server's reply.
#[derive(Debug, Clone)]
pub struct Settled {
    pub state: MailState,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub reply: String,
}
