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

/// Who made a change: a person in the portal (an admin, or the person themself accepting an
/// invitation or resetting a password), the server's command line, or keyport itself (turning
/// a failing webhook off).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Person(&'a Actor),
    CommandLine,
    Keyport,
}

/// Records an account change, by whoever made it; the command line shows as its own origin.
pub fn record_by(
    conn: &mut DbConnection,
    by: By<'_>,
    subject: UserId,
    action: AuditAction,
    detail: Option<&str>,
) -> diesel::QueryResult<usize> {
    match by {
        By::Person(actor) => record(conn, actor, subject, action, detail),
        By::CommandLine | By::Keyport => {
            let from = matches!(by, By::CommandLine).then_some(COMMAND_LINE);
            tracing::info!(subject = subject.0, %action, from, "audit event");
            NewAuditEvent {
                actor_id: None,
                subject_id: Some(subject),
                action,
                ip: from,
                detail,
                created_at: now(),
            }
            .insert(conn)
        }
    }
}

/// Where the command line's changes come from, in the audit trail.
pub const COMMAND_LINE: &str = "command line";
