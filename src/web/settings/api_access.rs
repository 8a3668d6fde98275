//! Your Profile & Preferences → My Settings & Preferences → API Access: the key (Enable API
//! Access, Regenerate New Key, Turn Off API Access) and the section that lists the webhooks.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::db::DbConnection;
use crate::domain;
use crate::domain::api_access::NOT_ALLOWED;
use crate::domain::api_access::{self, Overview};
use crate::domain::api_keys::IssuedKey;
use crate::domain::audit::Actor;
use crate::http::error::Error;
use crate::models::WebhookId;
use crate::web::pages::{Flash, Layout, html, html_status, is_htmx, redirect};
use crate::web::route::fill;
use crate::web::session::SignedIn;
use crate::web::views::{AccessView, StillUsedView, WebhookRow, access_view};

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    layout: Layout,
}

/// The API Access section: the whole of it is swapped by htmx after each action.
#[derive(Template)]
#[template(path = "settings/api_access_partial.html")]
struct ApiAccessSection {
    csrf_token: String,
    flash: Option<Flash>,
    access: AccessView,
    /// The key policy lets this person turn API Access on.
    may_enable: bool,
    /// What they read instead when it does not.
    not_allowed: &'static str,
    /// The full key, in the one response that shows it.
    new_key: Option<String>,
    confirm_regenerate: bool,
    confirm_turn_off: bool,
    /// The confirmation asks for the password (the last entry is too old).
    ask_password: bool,
    /// Why the password given with a confirmation was refused.
    password_error: Option<String>,
    webhook_rows: Vec<WebhookRow>,
    /// Keys that stopped working and are still sent.
    still_used: Vec<StillUsedView>,
    /// Why the add-webhook form was refused, with what was typed.
    add_error: Option<String>,
    add_url: String,
}

#[derive(Template)]
#[template(path = "settings/api_access.html")]
struct ApiAccessPage {
    layout: Layout,
    section: ApiAccessSection,
}

pub(super) async fn index(me: SignedIn) -> Result<HttpResponse, Error> {
    html(&SettingsPage {
        layout: Layout::for_user(&me)?,
    })
}

pub(super) async fn show(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::Show).await
}

/// The confirmation step before Regenerate New Key: its button makes the post.
pub(super) async fn confirm_regenerate(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::ConfirmRegenerate(None)).await
}

pub(super) async fn confirm_turn_off(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::ConfirmTurnOff(None)).await
}

pub(super) async fn enable(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    show_new_key(&state, &me, &req, api_access::enable).await
}

pub(super) async fn regenerate(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, Error> {
    if let Err(refused) = confirm_password(&state, &mut me, &req, form.into_inner().password).await
    {
        return current(&state, &me, &req, Step::ConfirmRegenerate(Some(refused))).await;
    }
    show_new_key(&state, &me, &req, api_access::regenerate).await
}

/// The password asked again before Regenerate New Key and Turn Off API Access.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordForm {
    password: Option<String>,
}

/// When the session's last password entry is too old, the confirmation must carry the
/// password; guesses count against the same limits as signing in.
pub(super) async fn confirm_password(
    state: &AppState,
    me: &mut SignedIn,
    req: &HttpRequest,
    password: Option<String>,
) -> Result<(), Error> {
    if !me.needs_password {
        return Ok(());
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(Error::unprocessable("Enter your password to continue."));
    };
    me.confirm_password(
        state,
        req,
        password,
        "That is not your password. Enter the password you sign in with.",
    )
    .await
}

/// Issues a key (Enable API Access or Regenerate New Key) and shows it, once.
async fn show_new_key(
    state: &AppState,
    me: &SignedIn,
    req: &HttpRequest,
    issue: fn(&mut DbConnection, &Actor) -> domain::Result<IssuedKey>,
) -> Result<HttpResponse, Error> {
    let actor = me.actor();
    let (issued, overview) = state
        .db
        .write(move |c| {
            Ok::<_, domain::Error>((issue(c, &actor)?, api_access::overview(c, actor.id)?))
        })
        .await?;
    render(
        req,
        me,
        overview,
        Step::ShowKey(issued.key.expose().to_owned()),
    )
}

pub(super) async fn turn_off(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, Error> {
    if let Err(refused) = confirm_password(&state, &mut me, &req, form.into_inner().password).await
    {
        return current(&state, &me, &req, Step::ConfirmTurnOff(Some(refused))).await;
    }
    let actor = me.actor();
    let overview = state
        .db
        .write(move |c| {
            api_access::turn_off(c, &actor)?;
            api_access::overview(c, actor.id)
        })
        .await?;
    let flash = Flash::success(
        "API Access is off. Your key, and every link that contains it, no longer works.",
    );
    done(&req, &me, overview, flash)
}

/// After an action: the section with its message for htmx; a redirect to the page otherwise.
pub(super) fn done(
    req: &HttpRequest,
    me: &SignedIn,
    overview: Overview,
    flash: Flash,
) -> Result<HttpResponse, Error> {
    if is_htmx(req) {
        return render(req, me, overview, Step::Done(flash));
    }
    flash.set(&me.session)?;
    Ok(redirect(urls::API_ACCESS))
}

pub(super) enum Step {
    Show,
    Reveal(WebhookId),
    Added(WebhookId),
    AddRefused {
        error: String,
        url: String,
    },
    /// With why the password given was refused, if it was.
    ConfirmRegenerate(Option<Error>),
    ConfirmTurnOff(Option<Error>),
    ShowKey(String),
    Done(Flash),
}

async fn current(
    state: &AppState,
    me: &SignedIn,
    req: &HttpRequest,
    step: Step,
) -> Result<HttpResponse, Error> {
    let id = me.user.id;
    let overview = state.db.run(move |c| api_access::overview(c, id)).await?;
    render(req, me, overview, step)
}

/// The section for htmx, the whole page otherwise. A page with a key is never cached.
pub(super) fn render(
    req: &HttpRequest,
    me: &SignedIn,
    overview: Overview,
    step: Step,
) -> Result<HttpResponse, Error> {
    let mut layout = Layout::for_user(me)?;
    let access = access_view(&overview.access);
    let revealed = match step {
        Step::Reveal(id) | Step::Added(id) => Some(id),
        _ => None,
    };
    let webhook_rows = overview
        .webhooks
        .iter()
        .map(|hook| {
            let url = |pattern| fill(pattern, &[hook.id.0]);
            let mut row = WebhookRow::new(hook);
            row.toggle_url = Some(url(urls::WEBHOOK_STATUS));
            row.delete_url = Some(url(urls::WEBHOOK_DELETE));
            row.reveal_url = Some(url(urls::WEBHOOK_SECRET));
            row.details_url = Some(url(urls::WEBHOOK));
            row.secret = (revealed == Some(hook.id)).then(|| hook.secret.clone());
            row
        })
        .collect();
    let mut section = ApiAccessSection {
        csrf_token: layout.csrf_token.clone(),
        access,
        may_enable: overview.may_enable,
        not_allowed: NOT_ALLOWED,
        webhook_rows,
        still_used: overview
            .still_used
            .iter()
            .map(|s| StillUsedView {
                dismiss_url: Some(fill(urls::KEY_STILL_USED_DISMISS, &[s.key.id])),
                ..StillUsedView::from(s)
            })
            .collect(),
        // htmx swaps only the section, so a pending message shows inside it.
        flash: if is_htmx(req) {
            layout.flash.take()
        } else {
            None
        },
        ask_password: me.needs_password,
        new_key: None,
        confirm_regenerate: false,
        confirm_turn_off: false,
        password_error: None,
        add_error: None,
        add_url: String::new(),
    };
    let mut password_refused = None;
    match step {
        Step::Show => {}
        Step::ConfirmRegenerate(refused) => {
            section.confirm_regenerate = true;
            password_refused = refused;
        }
        Step::ConfirmTurnOff(refused) => {
            section.confirm_turn_off = true;
            password_refused = refused;
        }
        Step::ShowKey(key) => section.new_key = Some(key),
        Step::Done(flash) => section.flash = Some(flash),
        Step::Reveal(_) => {}
        Step::Added(_) => {
            section.flash = Some(Flash::success(
                "Webhook added. Its signing secret is shown below: use it to check each delivery's signature.",
            ));
        }
        Step::AddRefused { error, url } => {
            section.add_error = Some(error);
            section.add_url = url;
        }
    }
    let shows_key = section.new_key.is_some() || revealed.is_some();
    let mut status = if section.add_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if let Some(refused) = &password_refused {
        status = refused.status;
        section.password_error = Some(refused.message.clone());
    }
    let mut response = if is_htmx(req) {
        html_status(status, &section)?
    } else {
        html_status(status, &ApiAccessPage { layout, section })?
    };
    if let Some(refused) = &password_refused {
        refused.set_retry_after(&mut response);
    }
    if shows_key {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
