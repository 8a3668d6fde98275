//! Advanced Settings → API Management: everyone with API Access, searched and paged; a
//! person's key, history, audit trail and webhooks. Admins and support staff read; admins
//! Clear API Key and turn webhooks on or off.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::domain::api_access;
use crate::domain::api_management::{self, KeyPage, UserDetail};
use crate::domain::webhooks;
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{User, UserId, WebhookId};
use crate::web::pages::{Flash, Layout, html, is_htmx, redirect, redirect_after_post};
use crate::web::route::fill;
use crate::web::session::{Admin, SignedIn, Staff};
use crate::web::views::{KeyView, StatusForm, WebhookRow, When, access_view};

fn user_url(id: UserId) -> String {
    fill(urls::USER, &[id.0])
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    after: Option<i64>,
}

#[derive(serde::Serialize)]
pub struct ListRow {
    pub url: String,
    pub name: String,
    pub email: String,
    pub key: KeyView,
}

/// The table of users, swapped by htmx as the search is typed.
#[derive(Template)]
#[template(path = "admin/api_management_partial.html")]
pub struct ListSection {
    q: String,
    rows: Vec<ListRow>,
    next_url: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/api_management.html")]
struct ListPage {
    layout: Layout,
    section: ListSection,
}

pub(super) async fn list(
    state: web::Data<AppState>,
    Staff(me): Staff,
    query: web::Query<ListQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let ListQuery { q, after } = query.into_inner();
    let search = api_management::normalize_search(q.as_deref())?;
    let page = state
        .db
        .run(move |c| api_management::list(c, search.as_deref(), after))
        .await?;
    let section = list_section(q.unwrap_or_default(), page);
    if is_htmx(&req) {
        return html(&section);
    }
    html(&ListPage {
        layout: Layout::for_user(&me)?,
        section,
    })
}

impl ListSection {
    /// The rows as the table shows them (benchmark 4 serialises the same rows to JSON).
    pub fn rows(&self) -> &[ListRow] {
        &self.rows
    }
}

/// The table for a page of results, with the link to the next page.
pub fn list_section(q: String, page: KeyPage) -> ListSection {
    let next_url = page.next_after.map(|after| {
        let query = serde_urlencoded::to_string([("q", q.as_str()), ("after", &after.to_string())])
            .unwrap_or_default();
        format!("{}?{query}", urls::LIST)
    });
    let rows = page
        .rows
        .iter()
        .map(|(key, user)| ListRow {
            url: user_url(user.id),
            name: user.name.clone(),
            email: user.email.clone(),
            key: KeyView::from(key),
        })
        .collect();
    ListSection { q, rows, next_url }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    layout: Layout,
    user: User,
    url: String,
    key: Option<KeyView>,
    keys: Vec<KeyView>,
    audit: Vec<AuditRow>,
    webhook_rows: Vec<WebhookRow>,
    csrf_token: String,
    confirm_clear: bool,
}

pub struct AuditRow {
    pub when: When,
    pub action: &'static str,
    pub actor: String,
    pub ip: String,
    pub detail: String,
}

pub(super) async fn user(
    state: web::Data<AppState>,
    Staff(me): Staff,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let detail = load(&state, id.into_inner().0).await?;
    html(&user_page(&me, detail, false)?)
}

pub(super) async fn confirm_clear(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let detail = load(&state, id.into_inner().0).await?;
    html(&user_page(&me, detail, true)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClearForm {
    reason: Option<String>,
}

const MAX_REASON_CHARS: usize = 500;

pub(super) async fn clear(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
    form: web::Form<ClearForm>,
) -> Result<HttpResponse, Error> {
    let subject = UserId(id.into_inner().0);
    let reason = form
        .into_inner()
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(Error::unprocessable(format!(
            "Reason: use at most {MAX_REASON_CHARS} characters."
        )));
    }
    let admin = me.actor();
    state
        .db
        .write(move |c| api_access::clear(c, &admin, subject, reason.as_deref()))
        .await?;
    Flash::success("API key cleared. It no longer works, and the user's API Access stays off until they enable it again.").set(&me.session)?;
    Ok(redirect(&user_url(subject)))
}

async fn load(state: &AppState, id: i64) -> Result<UserDetail, Error> {
    Ok(state
        .db
        .run(move |c| api_management::user_detail(c, UserId(id)))
        .await?)
}

fn user_page(me: &SignedIn, detail: UserDetail, confirm_clear: bool) -> Result<UserPage, Error> {
    let (key, _) = access_view(&detail.access);
    let layout = Layout::for_user(me)?;
    let user = detail.user.id.0;
    let webhook_rows = detail
        .webhooks
        .iter()
        .map(|hook| {
            let mut row = WebhookRow::new(hook, key.is_some());
            row.details_url = Some(fill(urls::WEBHOOK, &[user, hook.id.0]));
            if layout.is_admin() {
                row.toggle_url = Some(fill(urls::WEBHOOK_STATUS, &[user, hook.id.0]));
            }
            row
        })
        .collect();
    Ok(UserPage {
        csrf_token: layout.csrf_token.clone(),
        layout,
        webhook_rows,
        url: user_url(detail.user.id),
        key,
        keys: detail.keys.iter().map(KeyView::from).collect(),
        audit: detail
            .audit
            .into_iter()
            .map(|(event, actor)| AuditRow {
                when: When::from(&event.created_at),
                action: event.action.label(),
                actor: actor.unwrap_or_else(|| "—".into()),
                ip: event.ip.unwrap_or_default(),
                detail: event.detail.unwrap_or_default(),
            })
            .collect(),
        user: detail.user,
        confirm_clear,
    })
}

/// An admin turns a user's webhook on or off (audited), then sees the user page again.
pub(super) async fn set_webhook_status(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, PathId)>,
    form: web::Form<StatusForm>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let ((PathId(owner), PathId(id)), status) = (path.into_inner(), form.into_inner().status);
    let admin = me.actor();
    let hook = state
        .db
        .write(move |c| {
            webhooks::set_status_as_admin(c, &admin, UserId(owner), WebhookId(id), status)
        })
        .await?;
    Flash::success(format!(
        "Webhook {} turned {}.",
        hook.url,
        status.as_str().to_lowercase()
    ))
    .set(&me.session)?;
    Ok(redirect_after_post(&req, &user_url(UserId(owner))))
}
