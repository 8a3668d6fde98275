//! Advanced Settings → API Management: everyone with API Access, searched and paged; a
//! person's key, history, audit trail and webhooks. Admins and support staff read; admins
//! Clear API Key and turn webhooks on or off.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::domain::api_access::ApiAccess;
use crate::domain::api_management::{self, KeyPage, Listed, UserDetail};
use crate::domain::webhooks;
use crate::domain::{api_access, api_keys};
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{User, UserId, WebhookId, WhoMayEnable};
use crate::web::pages::{Flash, Layout, html, is_htmx, redirect, redirect_after_post};
use crate::web::route::fill;
use crate::web::session::{Admin, SignedIn, Staff};
use crate::web::views::{
    AccessView, AuditRow, KeyView, StatusForm, StillUsedView, UsageView, WebhookRow, When,
    access_view,
};

fn user_url(id: UserId) -> String {
    fill(urls::USER, &[id.0])
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    after: Option<i64>,
    /// `1`: only people whose stopped keys are still sent.
    stale: Option<String>,
    /// `on` (the default), `off` or `any`: whether their API Access is on.
    access: Option<String>,
}

impl ListQuery {
    /// Whom the list shows.
    fn listed(&self) -> Result<Listed, Error> {
        let stale = match self.stale.as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => {
                return Err(Error::bad_request(
                    "stale: send 1 to list only people whose stopped keys are still in use.",
                ));
            }
        };
        Ok(match (stale, self.access.as_deref()) {
            (true, _) => Listed::StillUsingStoppedKeys,
            (false, None | Some("on")) => Listed::WithApiAccess,
            (false, Some("off")) => Listed::WithoutApiAccess,
            (false, Some("any")) => Listed::Everyone,
            (false, Some(_)) => {
                return Err(Error::bad_request(
                    "access: use on, off or any (whether their API Access is on).",
                ));
            }
        })
    }
}

#[derive(serde::Serialize)]
pub struct ListRow {
    pub url: String,
    pub name: String,
    pub email: String,
    /// The prefixes of the person's keys.
    pub keys: Vec<String>,
    /// When API Access was turned on.
    pub enabled: Option<When>,
    /// The last use of any of their keys.
    pub last_used: Option<When>,
}

/// The table of users, swapped by htmx as the search is typed.
#[derive(Template)]
#[template(path = "admin/api_management_partial.html")]
pub struct ListSection {
    q: String,
    /// Only people whose stopped keys are still sent.
    stale: bool,
    /// Whose API Access the list shows: `on`, `off` or `any`.
    access: &'static str,
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
    let listed = query.listed()?;
    let ListQuery { q, after, .. } = query.into_inner();
    let search = api_management::normalize_search(q.as_deref())?;
    let page = state
        .db
        .run(move |c| api_management::list(c, search.as_deref(), after, listed))
        .await?;
    let section = list_section(q.unwrap_or_default(), listed, page);
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
pub fn list_section(q: String, listed: Listed, page: KeyPage) -> ListSection {
    let stale = listed == Listed::StillUsingStoppedKeys;
    let access = match listed {
        Listed::WithoutApiAccess => "off",
        Listed::Everyone => "any",
        Listed::WithApiAccess | Listed::StillUsingStoppedKeys => "on",
    };
    let next_url = page.next_after.map(|after| {
        let mut query = vec![("q", q.clone()), ("after", after.to_string())];
        if stale {
            query.push(("stale", "1".into()));
        } else if access != "on" {
            query.push(("access", access.into()));
        }
        let query = serde_urlencoded::to_string(query).unwrap_or_default();
        format!("{}?{query}", urls::LIST)
    });
    let rows = page
        .rows
        .iter()
        .map(|row| ListRow {
            url: user_url(row.user.id),
            name: row.user.name.clone(),
            email: row.user.email.clone(),
            keys: row.prefixes.clone(),
            enabled: row.user.api_access_at.as_ref().map(When::from),
            last_used: row.last_used_at.as_ref().map(When::from),
        })
        .collect();
    ListSection {
        q,
        stale,
        access,
        rows,
        next_url,
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    layout: Layout,
    user: User,
    url: String,
    access: AccessView,
    keys: Vec<KeyView>,
    audit: Vec<AuditRow>,
    /// The person's page under People (role, account, password reset).
    person_url: String,
    webhook_rows: Vec<WebhookRow>,
    csrf_token: String,
    confirm: Confirm,
    /// The key policy lets only people an admin has allowed turn API Access on.
    allow_list: bool,
    /// Their keys that stopped working and are still sent.
    still_used: Vec<StillUsedView>,
    /// Each working key's name, prefix and last 30 days.
    usage: Vec<(String, String, UsageView)>,
}

/// Which confirmation the page shows, if any.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Confirm {
    Nothing,
    ClearAll,
    ClearKey(i64),
}

pub(super) async fn user(
    state: web::Data<AppState>,
    Staff(me): Staff,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let detail = load(&state, id.into_inner().0).await?;
    html(&user_page(&me, detail, Confirm::Nothing)?)
}

pub(super) async fn confirm_clear(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let detail = load(&state, id.into_inner().0).await?;
    html(&user_page(&me, detail, Confirm::ClearAll)?)
}

/// The confirmation step before Clear Key on one key.
pub(super) async fn confirm_clear_key(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, PathId)>,
) -> Result<HttpResponse, Error> {
    let (PathId(user), PathId(key)) = path.into_inner();
    let detail = load(&state, user).await?;
    let live =
        matches!(&detail.access, ApiAccess::On { keys, .. } if keys.iter().any(|k| k.id == key));
    if !live {
        return Err(Error::not_found());
    }
    html(&user_page(&me, detail, Confirm::ClearKey(key))?)
}

/// Clear Key: one key of the user fails at once; their API Access and other keys stay.
pub(super) async fn clear_key(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, PathId)>,
    form: web::Form<ClearForm>,
) -> Result<HttpResponse, Error> {
    let (PathId(user), PathId(key)) = path.into_inner();
    let subject = UserId(user);
    let reason = form.into_inner().reason()?;
    let admin = me.actor();
    let cleared = state
        .db
        .write(move |c| api_keys::clear(c, &admin, subject, key, reason.as_deref()))
        .await?;
    Flash::success(format!(
        "Key “{}” ({}…) cleared. It no longer works; the user's other keys still do.",
        cleared.name, cleared.prefix
    ))
    .set(&me.session)?;
    Ok(redirect(&user_url(subject)))
}

/// Allow or disallow a person to turn API Access on (the key policy's allow list).
pub(super) async fn allow(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    set_allowed(state, me, id.into_inner(), true).await
}

pub(super) async fn disallow(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    set_allowed(state, me, id.into_inner(), false).await
}

async fn set_allowed(
    state: web::Data<AppState>,
    me: SignedIn,
    id: PathId,
    allowed: bool,
) -> Result<HttpResponse, Error> {
    let subject = UserId::from(id);
    let admin = me.actor();
    state
        .db
        .write(move |c| api_access::set_allowed(c, &admin, subject, allowed))
        .await?;
    Flash::success(if allowed {
        "Allowed: this person may now turn on API Access."
    } else {
        "Disallowed: this person may no longer turn on API Access. Access already on stays on until it is cleared."
    })
    .set(&me.session)?;
    Ok(redirect(&user_url(subject)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClearForm {
    reason: Option<String>,
}

const MAX_REASON_CHARS: usize = 500;

impl ClearForm {
    /// The reason as given, trimmed; empty is none.
    fn reason(self) -> Result<Option<String>, Error> {
        let reason = self
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if let Some(reason) = &reason {
            if reason.chars().count() > MAX_REASON_CHARS {
                return Err(Error::unprocessable(format!(
                    "Reason: use at most {MAX_REASON_CHARS} characters."
                )));
            }
            if reason.chars().any(char::is_control) {
                return Err(Error::unprocessable(
                    "Reason: use printable characters only.",
                ));
            }
        }
        Ok(reason)
    }
}

pub(super) async fn clear(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
    form: web::Form<ClearForm>,
) -> Result<HttpResponse, Error> {
    let subject = UserId(id.into_inner().0);
    let reason = form.into_inner().reason()?;
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

fn user_page(me: &SignedIn, detail: UserDetail, confirm: Confirm) -> Result<UserPage, Error> {
    let access = access_view(&detail.access);
    let layout = Layout::for_user(me)?;
    let user = detail.user.id.0;
    let webhook_rows = detail
        .webhooks
        .iter()
        .map(|hook| {
            let mut row = WebhookRow::new(hook);
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
        person_url: fill(crate::web::people::urls::PERSON, &[detail.user.id.0]),
        access,
        allow_list: detail.policy.who_may_enable == WhoMayEnable::Allowed,
        keys: detail.keys.iter().map(KeyView::from).collect(),
        audit: detail.audit.into_iter().map(AuditRow::from).collect(),
        still_used: detail.still_used.iter().map(StillUsedView::from).collect(),
        usage: detail
            .usage
            .iter()
            .map(|(key, days)| (key.name.clone(), key.prefix.clone(), UsageView::new(days)))
            .collect(),
        user: detail.user,
        confirm,
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
