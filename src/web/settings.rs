//! Your Profile & Preferences → My Settings & Preferences → API Access.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Flash, Layout, html, html_status, is_htmx, redirect};
use super::session::SignedIn;
use super::views::{KeyView, WebhookRow, access_view};
use crate::AppState;
use crate::db::DbConnection;
use crate::domain;
use crate::domain::api_access::{self, IssuedKey, Overview};
use crate::domain::audit::Actor;
use crate::domain::webhooks::{self, NewSubscription};
use crate::http::client_address::client_ip;
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{Entity, OperationType, UserId, WebhookStatus};

pub const API_ACCESS: &str = "/settings/api-access";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings").get(index))
        .service(web::resource(API_ACCESS).get(show))
        .service(web::resource("/settings/api-access/enable").post(enable))
        .service(
            web::resource("/settings/api-access/regenerate")
                .get(confirm_regenerate)
                .post(regenerate),
        )
        .service(
            web::resource("/settings/api-access/disable")
                .get(confirm_turn_off)
                .post(turn_off),
        )
        .service(web::resource("/settings/api-access/webhooks").post(add_webhook))
        .service(
            web::resource("/settings/api-access/webhooks/{id}/status").post(set_webhook_status),
        )
        .service(web::resource("/settings/api-access/webhooks/{id}/delete").post(delete_webhook))
        .service(web::resource("/settings/api-access/webhooks/{id}/secret").get(reveal_secret));
}

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    layout: Layout,
}

/// The API Access section: the whole of it is swapped by htmx after each action.
#[derive(Template, Default)]
#[template(path = "settings/api_access_partial.html")]
struct ApiAccessSection {
    csrf_token: String,
    flash: Option<Flash>,
    key: Option<KeyView>,
    off_notice: Option<String>,
    /// The full key, in the one response that shows it.
    new_key: Option<String>,
    confirm_regenerate: bool,
    confirm_turn_off: bool,
    /// The confirmation asks for the password (the last entry is too old).
    ask_password: bool,
    /// Why the password given with a confirmation was refused.
    password_error: Option<String>,
    webhook_rows: Vec<WebhookRow>,
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

async fn index(me: SignedIn) -> Result<HttpResponse, Error> {
    html(&SettingsPage {
        layout: Layout::for_user(&me)?,
    })
}

async fn show(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::Show).await
}

/// The confirmation step before Regenerate New Key: its button makes the post.
async fn confirm_regenerate(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::ConfirmRegenerate(None)).await
}

async fn confirm_turn_off(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::ConfirmTurnOff(None)).await
}

async fn enable(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    show_new_key(&state, &me, &req, api_access::enable).await
}

async fn regenerate(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, Error> {
    if let Err(refused) = confirm_password(&state, &mut me, &req, form).await {
        return current(&state, &me, &req, Step::ConfirmRegenerate(Some(refused))).await;
    }
    show_new_key(&state, &me, &req, api_access::regenerate).await
}

/// The password asked again before Regenerate New Key and Turn Off API Access.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordForm {
    password: Option<String>,
}

/// When the session's last password entry is too old, the confirmation must carry the
/// password; guesses count against the same limits as signing in.
async fn confirm_password(
    state: &AppState,
    me: &mut SignedIn,
    req: &HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<(), Error> {
    if !me.needs_password {
        return Ok(());
    }
    let password = form.into_inner().password;
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
    let actor = actor(me, req);
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

async fn turn_off(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, Error> {
    if let Err(refused) = confirm_password(&state, &mut me, &req, form).await {
        return current(&state, &me, &req, Step::ConfirmTurnOff(Some(refused))).await;
    }
    let actor = actor(&me, &req);
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddWebhookForm {
    url: String,
    entity: Entity,
    operation_type: OperationType,
}

/// The On/Off form of a webhook row, posted by its owner here and by admins in API Management.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    pub status: WebhookStatus,
}

async fn add_webhook(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    form: web::Form<AddWebhookForm>,
) -> Result<HttpResponse, Error> {
    let (owner, actor, form) = (me.user.id, actor(&me, &req), form.into_inner());
    let typed = form.url.clone();
    let new = NewSubscription {
        url: form.url,
        entity: form.entity,
        operation_type: form.operation_type,
        status: None,
    };
    let allow_private = state.delivery.webhook_allow_private;
    let result = state
        .db
        .write(move |c| {
            let added = webhooks::create(c, &actor, new, allow_private);
            Ok::<_, domain::Error>((added, api_access::overview(c, owner)?))
        })
        .await?;
    match result {
        (Ok(hook), overview) => render(&req, &me, overview, Step::Added(hook.id)),
        (Err(domain::Error::InvalidField { reason, .. }), overview) => {
            let refused = Step::AddRefused {
                error: format!("The webhook URL {reason}."),
                url: typed,
            };
            render(&req, &me, overview, refused)
        }
        (Err(e), _) => Err(e.into()),
    }
}

async fn set_webhook_status(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, Error> {
    let (owner, id, status) = (me.user.id, id.into_inner().0, form.into_inner().status);
    let overview = change_webhook(&state, owner, move |c| {
        webhooks::set_status(c, owner, id, status).map(drop)
    })
    .await?;
    let flash = Flash::success(match status {
        WebhookStatus::On => "Webhook turned on.",
        WebhookStatus::Off => "Webhook turned off. Nothing is sent to it until you turn it on.",
    });
    done(&req, &me, overview, flash)
}

async fn delete_webhook(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let (owner, id) = (me.user.id, id.into_inner().0);
    let actor = actor(&me, &req);
    let overview = change_webhook(&state, owner, move |c| webhooks::delete(c, &actor, id)).await?;
    done(&req, &me, overview, Flash::success("Webhook deleted."))
}

/// The signing secret, on demand: shown in its row, never cached.
async fn reveal_secret(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let (owner, id) = (me.user.id, id.into_inner().0);
    let overview = change_webhook(&state, owner, move |c| {
        webhooks::get(c, owner, id).map(drop)
    })
    .await?;
    render(&req, &me, overview, Step::Reveal(id))
}

/// Does something to one of the user's webhooks, then reads the section again.
async fn change_webhook<F>(state: &AppState, owner: UserId, change: F) -> Result<Overview, Error>
where
    F: FnOnce(&mut DbConnection) -> domain::Result<()> + Send + 'static,
{
    Ok(state
        .db
        .write(move |c| {
            change(c)?;
            api_access::overview(c, owner)
        })
        .await?)
}

/// After an action: the section with its message for htmx; a redirect to the page otherwise.
fn done(
    req: &HttpRequest,
    me: &SignedIn,
    overview: Overview,
    flash: Flash,
) -> Result<HttpResponse, Error> {
    if is_htmx(req) {
        return render(req, me, overview, Step::Done(flash));
    }
    flash.set(&me.session)?;
    Ok(redirect(API_ACCESS))
}

enum Step {
    Show,
    Reveal(i64),
    Added(i64),
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

fn actor(me: &SignedIn, req: &HttpRequest) -> Actor {
    Actor {
        id: me.user.id,
        ip: client_ip(req),
    }
}

/// The section for htmx, the whole page otherwise. A page with a key is never cached.
fn render(
    req: &HttpRequest,
    me: &SignedIn,
    overview: Overview,
    step: Step,
) -> Result<HttpResponse, Error> {
    let mut layout = Layout::for_user(me)?;
    let (key, off_notice) = access_view(&overview.access);
    let access_on = key.is_some();
    let revealed = match step {
        Step::Reveal(id) | Step::Added(id) => Some(id),
        _ => None,
    };
    let webhook_rows = overview
        .webhooks
        .iter()
        .map(|hook| {
            let base = format!("{API_ACCESS}/webhooks/{}", hook.id);
            let mut row = WebhookRow::new(hook, access_on);
            row.toggle_url = Some(format!("{base}/status"));
            row.delete_url = Some(format!("{base}/delete"));
            row.reveal_url = Some(format!("{base}/secret"));
            row.details_url = Some(base);
            row.secret = (revealed == Some(hook.id)).then(|| hook.secret.clone());
            row
        })
        .collect();
    let mut section = ApiAccessSection {
        csrf_token: layout.csrf_token.clone(),
        key,
        off_notice,
        webhook_rows,
        // htmx swaps only the section, so a pending message shows inside it.
        flash: if is_htmx(req) {
            layout.flash.take()
        } else {
            None
        },
        ask_password: me.needs_password,
        ..Default::default()
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
