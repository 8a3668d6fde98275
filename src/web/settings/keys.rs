//! API Access → a user's keys: Create New Key, each key's page, and on it Regenerate New Key
//! (with a grace time), Retire Now and Delete Key. Each change asks for confirmation first (a
//! GET shows it; the POST, with its CSRF token, acts); the pages work without JavaScript.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::api_access::confirm_password;
use super::urls;
use crate::AppState;
use crate::db::now;
use crate::domain::allowed_addresses::AllowedAddresses;
use crate::domain::api_keys::{self, Grace, IssuedKey, KeyRequest, KeyState, MAX_NAME_CHARS};
use crate::domain::key_policy::{self, KeyPolicy, LONGEST_DAYS};
use crate::domain::key_usage::{self, KeyActivity};
use crate::domain::scopes::{Access, Resource};
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::web::pages::{Flash, Layout, html_status, redirect};
use crate::web::route::fill;
use crate::web::session::SignedIn;
use crate::web::views::{KeyView, StillUsedView, UsageView};

/// The Create New Key form, with what was typed when it is shown again.
#[derive(Template)]
#[template(path = "settings/key_new.html")]
struct NewKeyPage {
    layout: Layout,
    form: CreateForm,
    error: Option<String>,
    /// What the policy says about expiry, in a sentence.
    expiry_hint: String,
    require_expiry: bool,
    /// Each resource's custom level as the form shows it.
    scope_rows: Vec<ScopeRow>,
    max_name: usize,
    longest_days: i64,
}

struct ScopeRow {
    label: &'static str,
    field: String,
    current: String,
}

/// The form's fields (`access` is `full`, `read` or `custom`; each `scope_*` is `none`,
/// `read` or `write`; `expires_in_days` empty means never).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    access: String,
    scope_contacts: Option<String>,
    scope_companies: Option<String>,
    scope_jobs: Option<String>,
    scope_webhooks: Option<String>,
    #[serde(default)]
    expires_in_days: String,
}

impl CreateForm {
    fn scope(&self, resource: Resource) -> &str {
        let given = match resource {
            Resource::Contacts => &self.scope_contacts,
            Resource::Companies => &self.scope_companies,
            Resource::Jobs => &self.scope_jobs,
            Resource::Webhooks => &self.scope_webhooks,
        };
        given.as_deref().unwrap_or("none")
    }

    fn request(&self) -> Result<KeyRequest, Error> {
        let access = Access::parse(
            &self.access,
            Resource::ALL.map(|r| Some(self.scope(r)).filter(|s| !s.is_empty())),
        )?;
        let days = self.expires_in_days.trim();
        let expires_in_days = if days.is_empty() {
            None
        } else {
            Some(days.parse::<i64>().map_err(|_| {
                Error::unprocessable(format!(
                    "expires_in_days: enter a number of days from 1 to {LONGEST_DAYS}, or leave it empty for never"
                ))
            })?)
        };
        Ok(KeyRequest {
            name: self.name.clone(),
            access,
            expires_in_days,
        })
    }
}

fn expiry_hint(policy: &KeyPolicy) -> String {
    match (policy.max_lifetime_days, policy.require_expiry) {
        (Some(days), true) => format!("Required: at most {days} days."),
        (Some(days), false) => format!("At most {days} days; leave it empty for never."),
        (None, true) => format!("Required: 1 to {LONGEST_DAYS} days."),
        (None, false) => "Leave it empty for a key that never expires.".into(),
    }
}

fn new_key_page(
    me: &SignedIn,
    policy: &KeyPolicy,
    form: CreateForm,
    error: Option<String>,
) -> Result<NewKeyPage, Error> {
    Ok(NewKeyPage {
        layout: Layout::for_user(me)?,
        error,
        expiry_hint: expiry_hint(policy),
        require_expiry: policy.require_expiry,
        scope_rows: Resource::ALL
            .iter()
            .map(|&r| ScopeRow {
                label: r.label(),
                field: format!("scope_{}", r.as_str()),
                current: form.scope(r).to_owned(),
            })
            .collect(),
        max_name: MAX_NAME_CHARS,
        longest_days: LONGEST_DAYS,
        form,
    })
}

pub(super) async fn new_form(
    state: web::Data<AppState>,
    me: SignedIn,
) -> Result<HttpResponse, Error> {
    let policy = state.db.run(key_policy::current).await?;
    let form = CreateForm {
        access: "full".into(),
        ..CreateForm::default()
    };
    html_status(StatusCode::OK, &new_key_page(&me, &policy, form, None)?)
}

/// Create New Key: the key's page with the new key, shown once.
pub(super) async fn create(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, Error> {
    let form = form.into_inner();
    let actor = me.actor();
    let created = match form.request() {
        Ok(request) => state
            .db
            .write(move |c| api_keys::create(c, &actor, &request))
            .await
            .map_err(Error::from),
        Err(refused) => Err(refused),
    };
    match created {
        Ok(issued) => show_issued(&me, issued, None),
        Err(refused) if refused.status.is_client_error() => {
            let policy = state.db.run(key_policy::current).await?;
            let page = new_key_page(&me, &policy, form, Some(refused.message.clone()))?;
            html_status(refused.status, &page)
        }
        Err(other) => Err(other),
    }
}

/// A key's page, with the step it is at.
#[derive(Template)]
#[template(path = "settings/key.html")]
struct KeyPage {
    layout: Layout,
    key: KeyView,
    url: String,
    /// The full key, in the one response that shows it.
    new_key: Option<String>,
    scopes: Vec<String>,
    /// What may be done to it now.
    working: bool,
    retiring: bool,
    step: Step,
    ask_password: bool,
    password_error: Option<String>,
    usage: UsageView,
    /// Where it is still sent, if it stopped working (none or one).
    still_used: Vec<StillUsedView>,
    /// The allow-list as the form shows it (what was typed, when it was refused).
    allowed_ips: String,
    addresses_error: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Show,
    ConfirmRegenerate,
    ConfirmRetire,
    ConfirmDelete,
}

fn key_url(id: i64) -> String {
    fill(urls::KEY, &[id])
}

fn key_page(
    me: &SignedIn,
    row: &crate::models::ApiKeyRow,
    activity: &KeyActivity,
    step: Step,
) -> Result<KeyPage, Error> {
    let state = api_keys::state_of(row, now());
    let mut layout = Layout::for_user(me)?;
    if step != Step::Show {
        layout.flash = None;
    }
    Ok(KeyPage {
        layout,
        key: KeyView::from(row),
        url: key_url(row.id),
        new_key: None,
        scopes: Access::from_columns(row.access, &row.scopes).scope_names(),
        working: matches!(state, KeyState::Active | KeyState::Expired),
        retiring: matches!(state, KeyState::Retiring(_)),
        step,
        ask_password: me.needs_password,
        password_error: None,
        usage: UsageView::new(&activity.days),
        still_used: activity
            .still_used
            .iter()
            .map(|s| StillUsedView {
                dismiss_url: Some(fill(urls::KEY_STILL_USED_DISMISS, &[row.id])),
                ..StillUsedView::from(s)
            })
            .collect(),
        allowed_ips: row.allowed_ips.clone(),
        addresses_error: None,
    })
}

/// One of the person's keys, with its usage and where it is still sent.
async fn load_key(
    state: &AppState,
    owner: crate::models::UserId,
    id: i64,
) -> Result<(crate::models::ApiKeyRow, KeyActivity), Error> {
    state
        .db
        .run(move |c| {
            let row = api_keys::get(c, owner, id)?;
            let activity = key_usage::of_key(c, &row, now().date())?;
            Ok::<_, Error>((row, activity))
        })
        .await
}

async fn show_step(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    step: Step,
    refused: Option<Error>,
) -> Result<HttpResponse, Error> {
    let owner = me.user.id;
    let (row, activity) = load_key(state, owner, id).await?;
    let mut page = key_page(me, &row, &activity, step)?;
    let mut status = StatusCode::OK;
    if let Some(refused) = &refused {
        status = refused.status;
        page.password_error = Some(refused.message.clone());
    }
    let mut response = html_status(status, &page)?;
    if let Some(refused) = &refused {
        refused.set_retry_after(&mut response);
    }
    Ok(response)
}

pub(super) async fn show(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    show_step(&state, &me, id.into_inner().0, Step::Show, None).await
}

pub(super) async fn confirm_regenerate(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    show_step(
        &state,
        &me,
        id.into_inner().0,
        Step::ConfirmRegenerate,
        None,
    )
    .await
}

pub(super) async fn confirm_retire(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    show_step(&state, &me, id.into_inner().0, Step::ConfirmRetire, None).await
}

pub(super) async fn confirm_delete(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    show_step(&state, &me, id.into_inner().0, Step::ConfirmDelete, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegenerateForm {
    grace: Option<String>,
    password: Option<String>,
}

/// Regenerate New Key on this key: the new key's page, with the key shown once.
pub(super) async fn regenerate(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
    form: web::Form<RegenerateForm>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner().0;
    let RegenerateForm { grace, password } = form.into_inner();
    let grace = Grace::parse(grace.as_deref())?;
    if let Err(refused) = confirm_password(&state, &mut me, &req, password).await {
        return show_step(&state, &me, id, Step::ConfirmRegenerate, Some(refused)).await;
    }
    let actor = me.actor();
    let issued = state
        .db
        .write(move |c| api_keys::regenerate(c, &actor, id, grace))
        .await?;
    let note = match grace {
        Grace::None => "Your old key, and every link with it, no longer works.".to_owned(),
        grace => format!(
            "Your old key keeps working for {} (it shows as Retiring): give your programs the new key before then, or use Retire Now on the old key.",
            grace.label()
        ),
    };
    show_issued(&me, issued, Some(note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteForm {
    password: Option<String>,
}

pub(super) async fn delete(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner().0;
    if let Err(refused) = confirm_password(&state, &mut me, &req, form.into_inner().password).await
    {
        return show_step(&state, &me, id, Step::ConfirmDelete, Some(refused)).await;
    }
    let actor = me.actor();
    let key = state
        .db
        .write(move |c| api_keys::delete(c, &actor, id))
        .await?;
    Flash::success(format!(
        "Key “{}” ({}…) deleted. It, and every link with it, no longer works; your other keys still do.",
        key.name, key.prefix
    ))
    .set(&me.session)?;
    Ok(redirect(urls::API_ACCESS))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddressesForm {
    allowed_ips: String,
}

/// Save Addresses: the key works only from these (or anywhere, when empty). A wrong line is
/// named on the page again, with what was typed, and nothing is saved.
pub(super) async fn set_addresses(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
    form: web::Form<AddressesForm>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner().0;
    let typed = form.into_inner().allowed_ips;
    let addresses = match AllowedAddresses::parse(&typed) {
        Ok(addresses) => addresses,
        Err(refused) => {
            let refused = Error::from(refused);
            let (row, activity) = load_key(&state, me.user.id, id).await?;
            let mut page = key_page(&me, &row, &activity, Step::Show)?;
            page.allowed_ips = typed;
            page.addresses_error = Some(refused.message.clone());
            return html_status(refused.status, &page);
        }
    };
    let actor = me.actor();
    let key = state
        .db
        .write(move |c| api_keys::set_addresses(c, &actor, id, &addresses))
        .await?;
    let said = if key.allowed_ips.is_empty() {
        format!("“{}” may be used from anywhere.", key.name)
    } else {
        format!(
            "“{}” may now be used only from {}.",
            key.name,
            key.allowed_from()
        )
    };
    Flash::success(said).set(&me.session)?;
    Ok(redirect(&key_url(id)))
}

/// Dismiss on the notice about a stopped key still in use: hidden until it is sent again.
pub(super) async fn dismiss_still_used(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let (owner, id) = (me.user.id, id.into_inner().0);
    state
        .db
        .write(move |c| key_usage::dismiss(c, owner, id))
        .await?;
    Flash::success("Notice dismissed. It comes back if the old key is sent again.")
        .set(&me.session)?;
    Ok(redirect(urls::API_ACCESS))
}

pub(super) async fn retire(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner().0;
    let actor = me.actor();
    let key = state
        .db
        .write(move |c| api_keys::retire(c, &actor, id))
        .await?;
    Flash::success(format!(
        "The old key {}… of “{}” is retired: it no longer works.",
        key.prefix, key.name
    ))
    .set(&me.session)?;
    Ok(redirect(urls::API_ACCESS))
}

/// A key just made, on its own page: shown once, never cached.
fn show_issued(
    me: &SignedIn,
    issued: IssuedKey,
    note: Option<String>,
) -> Result<HttpResponse, Error> {
    let unused = KeyActivity::unused(now().date());
    let mut page = key_page(me, &issued.row, &unused, Step::Show)?;
    page.new_key = Some(issued.key.expose().to_owned());
    page.layout.flash = note.map(Flash::success);
    let mut response = html_status(StatusCode::OK, &page)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
