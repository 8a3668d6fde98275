//! Advanced Settings → Mail (`/admin/mail`): the mails keyport sent and queued, newest first,
//! by state and recipient, each with its attempts and the SMTP server's last reply — so support
//! can answer "did the user get the email?". Subjects and states only, never bodies.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Layout, html};
use super::session::Staff;
use super::views::When;
use crate::AppState;
use crate::domain::mail::{self, MailLog};
use crate::http::error::Error;
use crate::models::mail::MailState;

pub const MAIL: &str = "/admin/mail";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(MAIL).get(show));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    state: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    layout: Layout,
    state: String,
    to: String,
    rows: Vec<MailRow>,
    next_url: Option<String>,
}

struct MailRow {
    created: When,
    to: String,
    subject: String,
    state: &'static str,
    sent: Option<When>,
    last_error: String,
    attempts: Vec<(When, bool, String)>,
}

async fn show(
    state: web::Data<AppState>,
    Staff(me): Staff,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, Error> {
    let LogQuery {
        state: wanted,
        to,
        before,
    } = query.into_inner();
    let wanted = wanted.filter(|s| !s.is_empty());
    let filter = match wanted.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<MailState>()
                .map_err(|_| Error::bad_request("state: choose pending, sent or failed"))?,
        ),
    };
    let to = to.unwrap_or_default();
    if to.chars().count() > 254 || to.chars().any(char::is_control) {
        return Err(Error::bad_request("to: enter an email address"));
    }
    let search = to.clone();
    let log = state
        .db
        .run(move |c| mail::log(c, filter, Some(&search), before).map_err(Error::internal))
        .await?;
    let wanted = wanted.unwrap_or_default();
    html(&page(Layout::for_user(&me)?, wanted, to, log))
}

fn page(layout: Layout, state: String, to: String, log: MailLog) -> MailPage {
    let next_url = log.next_before.map(|before| {
        let query = serde_urlencoded::to_string([
            ("state", state.as_str()),
            ("to", to.as_str()),
            ("before", &before.to_string()),
        ])
        .unwrap_or_default();
        format!("{MAIL}?{query}")
    });
    let rows = log
        .mails
        .into_iter()
        .map(|(mail, attempts)| MailRow {
            created: When::from(&mail.created_at),
            to: mail.to_email,
            subject: mail.subject,
            state: match mail.state {
                MailState::Pending => "Queued",
                MailState::Sent => "Sent",
                MailState::Failed => "Failed",
            },
            sent: mail.sent_at.as_ref().map(When::from),
            last_error: mail.last_error.unwrap_or_default(),
            attempts: attempts
                .into_iter()
                .map(|a| (When::from(&a.attempted_at), a.ok, a.reply))
                .collect(),
        })
        .collect();
    MailPage {
        layout,
        state,
        to,
        rows,
        next_url,
    }
}
