use crate::db::{DbConnection, now};
use crate::models::{AuditAction, NewAuditEvent, UserId};

/// Who did something, from where: passed from the web layer into every audited action.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub ip: Option<String>,
}

pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    subject: UserId,
    action: AuditAction,
    detail: Option<&str>,
) -> diesel::QueryResult<usize> {
    // In the log too (without the detail, which may be a person's words), on the request's line.
    tracing::info!(actor = actor.id.0, subject = subject.0, %action, "audit event");
    NewAuditEvent {
        actor_id: Some(actor.id),
        subject_id: Some(subject),
        action,
        ip: actor.ip.as_deref(),
        detail,
        created_at: now(),
    }
    .insert(conn)
}
