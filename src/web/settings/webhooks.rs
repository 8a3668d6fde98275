//! The user's webhooks under API Access: add one, turn it on or off, delete it, reveal its
//! signing secret; and each webhook's status page, where the owner redelivers.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::api_access::{Step, done, render};
use super::urls;
use crate::AppState;
use crate::db::DbConnection;
use crate::domain;
use crate::domain::api_access::{self, Overview};
use crate::domain::webhooks::{self, NewSubscription};
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{DeliveryId, Entity, OperationType, UserId, WebhookId, WebhookStatus};
use crate::web::pages::{Flash, html, redirect_after_post};
use crate::web::route::fill;
use crate::web::session::SignedIn;
use crate::web::views::StatusForm;
use crate::web::webhook_status::{self, ReportQuery};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddWebhookForm {
    url: String,
    entity: Entity,
    operation_type: OperationType,
}

pub(super) async fn add(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    form: web::Form<AddWebhookForm>,
) -> Result<HttpResponse, Error> {
    let (owner, actor, form) = (me.user.id, me.actor(), form.into_inner());
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

pub(super) async fn set_status(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, Error> {
    let (owner, id, status) = (
        me.user.id,
        WebhookId::from(id.into_inner()),
        form.into_inner().status,
    );
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

pub(super) async fn delete(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let (owner, id) = (me.user.id, WebhookId::from(id.into_inner()));
    let actor = me.actor();
    let overview = change_webhook(&state, owner, move |c| webhooks::delete(c, &actor, id)).await?;
    done(&req, &me, overview, Flash::success("Webhook deleted."))
}

/// The signing secret, on demand: shown in its row, never cached.
pub(super) async fn reveal_secret(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let (owner, id) = (me.user.id, WebhookId::from(id.into_inner()));
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

/// The webhook's status page, reached from API Access.
pub(super) async fn status_page(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let id = WebhookId::from(id.into_inner());
    let report = webhook_status::load(&state, me.user.id, id, &query).await?;
    let page = webhook_status::page(
        &me,
        report,
        &query,
        fill(urls::WEBHOOK, &[id.0]),
        (urls::API_ACCESS.to_owned(), "API Access"),
        Some((urls::REDELIVER, &[id.0])),
    )?;
    html(&page)
}

/// The owner sends a delivery again.
pub(super) async fn redeliver(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<(PathId, PathId)>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (id, delivery) = path.into_inner();
    let (id, delivery) = (WebhookId::from(id), DeliveryId::from(delivery));
    webhook_status::redeliver(&state, &me, me.user.id, id, delivery).await?;
    Ok(redirect_after_post(&req, &fill(urls::WEBHOOK, &[id.0])))
}
