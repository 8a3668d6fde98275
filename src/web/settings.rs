//! Your Profile & Preferences → My Settings & Preferences → API Access.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::Error;
use super::pages::{Flash, Layout, client_ip, html, html_no_store, is_htmx, redirect};
use super::session::SignedIn;
use super::views::{KeyView, access_view};
use crate::AppState;
use crate::db::DbConnection;
use crate::domain;
use crate::domain::api_access::{self, IssuedKey, Overview};
use crate::domain::audit::Actor;
use crate::models::Webhook;

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
        );
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
    webhooks: Vec<Webhook>,
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
    current(&state, &me, &req, Step::ConfirmRegenerate).await
}

async fn confirm_turn_off(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    current(&state, &me, &req, Step::ConfirmTurnOff).await
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
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    show_new_key(&state, &me, &req, api_access::regenerate).await
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
        .run(move |c| {
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
    me: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let actor = actor(&me, &req);
    let overview = state
        .db
        .run(move |c| {
            api_access::turn_off(c, &actor)?;
            api_access::overview(c, actor.id)
        })
        .await?;
    let flash = Flash::success(
        "API Access is off. Your key, and every link that contains it, no longer works.",
    );
    if is_htmx(&req) {
        return render(&req, &me, overview, Step::Done(flash));
    }
    flash.set(&me.session)?;
    Ok(redirect(API_ACCESS))
}

enum Step {
    Show,
    ConfirmRegenerate,
    ConfirmTurnOff,
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
    let mut section = ApiAccessSection {
        csrf_token: layout.csrf_token.clone(),
        key,
        off_notice,
        webhooks: overview.webhooks,
        // htmx swaps only the section, so a pending message shows inside it.
        flash: if is_htmx(req) {
            layout.flash.take()
        } else {
            None
        },
        ..Default::default()
    };
    match step {
        Step::Show => {}
        Step::ConfirmRegenerate => section.confirm_regenerate = true,
        Step::ConfirmTurnOff => section.confirm_turn_off = true,
        Step::ShowKey(key) => section.new_key = Some(key),
        Step::Done(flash) => section.flash = Some(flash),
    }
    let shows_key = section.new_key.is_some();
    if is_htmx(req) {
        return if shows_key {
            html_no_store(&section)
        } else {
            html(&section)
        };
    }
    let page = ApiAccessPage { layout, section };
    if shows_key {
        html_no_store(&page)
    } else {
        html(&page)
    }
}
