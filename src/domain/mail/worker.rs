//! The mail worker inside `serve`: claims a batch of due mails (safe with any number of
//! instances: a claim is a lease, and PostgreSQL skips rows another instance holds), sends
//! them, and records each attempt. A 5xx refusal is final; anything else is retried on
//! `KEYPORT_MAIL_RETRY_SCHEDULE` and given up after it, with the reason kept. A crash loses
//! nothing: an unsettled claim runs out and the mail is sent again (at least once).

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::message::Mailbox;

use super::transport::{Refused, Transport};
use super::{MailContent, MailKind, compose};
use crate::config::{MailSettings, RetrySchedule};
use crate::db::{Db, Unavailable, now, write_transaction};
use crate::models::mail::{Mail, MailState, Settled};

/// Mails claimed at once; each is sent one after another.
const BATCH: i64 = 8;
/// How long a claim lasts: a batch of slow SMTP answers (30 s each) fits in it.
const LEASE_SECS: i64 = 600;

#[derive(Clone)]
pub struct MailWorker {
    db: Db,
    transport: Arc<Transport>,
    from: Mailbox,
    public_url: String,
    schedule: RetrySchedule,
    poll: Duration,
}

impl MailWorker {
    /// `public_url` is where links in mails point.
    pub fn new(db: Db, settings: &MailSettings, public_url: &str) -> Result<Self, String> {
        let from = settings
            .mail_from
            .parse::<Mailbox>()
            .map_err(|e| format!("KEYPORT_MAIL_FROM is not an address: {e}"))?;
        Ok(MailWorker {
            db,
            transport: Arc::new(Transport::new(settings.smtp_url.as_deref())?),
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
            schedule: settings.mail_retry_schedule.clone(),
            poll: settings.mail_poll,
        })
    }

    /// Sends what is due, once: how many mails it attempted.
    pub async fn send_due(&self) -> Result<usize, Unavailable> {
        let at = now();
        let until = at + chrono::Duration::seconds(LEASE_SECS);
        let claimed = self
            .db
            .write(move |c| {
                write_transaction(c, |c| Mail::claim_due(c, at, until, BATCH))
                    .map_err(|e| Unavailable(e.to_string()))
            })
            .await?;
        for mail in &claimed {
            let result = match compose::message(mail, &self.from, &self.public_url) {
                Ok(message) => self.transport.send(message).await,
                Err(unsendable) => Err(Refused {
                    permanent: true,
                    reason: unsendable.0,
                }),
            };
            let at = now();
            let settled = settle(&result, mail.attempts, &self.schedule, at);
            if settled.state == MailState::Failed {
                tracing::warn!(mail = mail.id.0, reply = %settled.reply, "a mail was given up");
            }
            let id = mail.id;
            let forget_link = (settled.state != MailState::Pending
                && MailKind::one_time_link(&mail.kind))
            .then(|| without_link(&mail.content));
            self.db
                .write(move |c| {
                    write_transaction(c, |c| {
                        Mail::settle(c, id, at, &settled)?;
                        match &forget_link {
                            Some(content) => Mail::set_content(c, id, content).map(drop),
                            None => Ok(()),
                        }
                    })
                    .map_err(|e| Unavailable(e.to_string()))
                })
                .await?;
        }
        Ok(claimed.len())
    }

    /// Sends mail until `stop` says so; a mail being sent is finished first.
    pub async fn run(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let sent = match self.send_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "the mail worker cannot reach the database");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// What a mail said, without its link: kept once a one-time link has been sent.
fn without_link(content: &str) -> String {
    match serde_json::from_str::<MailContent>(content) {
        Ok(mut said) => {
            said.action = None;
            serde_json::to_string(&said).unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

/// Where a mail stands after an attempt: sent; failed for good (a 5xx, or the schedule is
/// used up); or due again after the schedule's next delay.
fn settle(
    result: &Result<String, Refused>,
    attempts_before: i32,
    schedule: &RetrySchedule,
    at: NaiveDateTime,
) -> Settled {
    match result {
        Ok(reply) => Settled {
            state: MailState::Sent,
            next_attempt_at: None,
            reply: reply.clone(),
        },
        Err(refused) if refused.permanent => Settled {
            state: MailState::Failed,
            next_attempt_at: None,
            reply: format!("refused for good: {}", refused.reason),
        },
        Err(refused) => match schedule.0.get(attempts_before.max(0) as usize) {
            Some(delay) => Settled {
                state: MailState::Pending,
                next_attempt_at: Some(
                    at + chrono::Duration::from_std(*delay).unwrap_or(chrono::Duration::zero()),
                ),
                reply: refused.reason.clone(),
            },
            None => Settled {
                state: MailState::Failed,
                next_attempt_at: None,
                reply: format!(
                    "given up after {} attempts: {}",
                    attempts_before + 1,
                    refused.reason
                ),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(permanent: bool) -> Result<String, Refused> {
        Err(Refused {
            permanent,
            reason: "the server said no".into(),
        })
    }

    #[test]
    fn a_refusal_for_good_is_not_retried_and_a_passing_one_follows_the_schedule() {
        let schedule = RetrySchedule(vec![Duration::from_secs(60), Duration::from_secs(300)]);
        let at = now();
        let first = settle(&refused(false), 0, &schedule, at);
        assert_eq!(first.state, MailState::Pending);
        assert_eq!(
            first.next_attempt_at,
            Some(at + chrono::Duration::seconds(60))
        );
        let second = settle(&refused(false), 1, &schedule, at);
        assert_eq!(
            second.next_attempt_at,
            Some(at + chrono::Duration::seconds(300))
        );
        let last = settle(&refused(false), 2, &schedule, at);
        assert_eq!(last.state, MailState::Failed);
        assert!(last.reply.starts_with("given up after 3 attempts"));
        let permanent = settle(&refused(true), 0, &schedule, at);
        assert_eq!(permanent.state, MailState::Failed);
        assert!(permanent.reply.starts_with("refused for good"));
        let sent = settle(&Ok("250 OK".into()), 0, &schedule, at);
        assert_eq!(sent.state, MailState::Sent);
    }
}
