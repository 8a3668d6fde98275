//! `/api/v1/webhooks`: the caller's own webhook subscriptions.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::ApiCaller;
use super::body::Object;
use crate::AppState;
use crate::domain::scopes::{Resource, Scope};
use crate::domain::webhooks::{self, NewSubscription, SubscriptionChanges};
use crate::http::error::Error;
use crate::http::openapi::{BodyErrors, ErrorBody, KeyErrors};
use crate::http::path_id::PathId;
use crate::models::{Entity, OperationType, Webhook, WebhookId, WebhookStatus};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(show)
        .service(update)
        .service(delete);
}

/// A webhook as programs see it. The signing secret is only in the answer to POST.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookJson {
    pub id: i64,
    pub url: String,
    pub entity: Entity,
    pub operation_type: OperationType,
    pub status: WebhookStatus,
    /// Why keyport turned it off by itself, when it did.
    pub disabled_reason: Option<String>,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
    /// The signing secret (`whsec_…`), in the answer to POST only: keep it to verify deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub secret: Option<String>,
}

/// The caller's webhooks.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookJson>,
}

impl From<Webhook> for WebhookJson {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id.0,
            url: w.url,
            entity: w.entity,
            operation_type: w.operation_type,
            status: w.status,
            disabled_reason: w.disabled_reason,
            created_at: w.created_at,
            secret: None,
        }
    }
}

/// List your webhooks
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "list_webhooks",
    security(("api_key_header" = ["webhooks:read"]), ("bearer" = ["webhooks:read"]), ("api_key_query" = ["webhooks:read"])),
    responses(
        (status = 200, description = "Every webhook of the key's owner", body = WebhookList),
        KeyErrors,
    ),
)]
#[get("/webhooks")]
async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, Error> {
    caller.require(Scope::read(Resource::Webhooks))?;
    let owner = caller.user.id;
    let hooks = state.db.run(move |c| webhooks::list(c, owner)).await?;
    let data = hooks.into_iter().map(WebhookJson::from).collect();
    Ok(HttpResponse::Ok().json(WebhookList { data }))
}

/// Get a webhook
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "get_webhook",
    security(("api_key_header" = ["webhooks:read"]), ("bearer" = ["webhooks:read"]), ("api_key_query" = ["webhooks:read"])),
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = WebhookJson),
        KeyErrors,
        (status = 404, description = "You have no webhook with this id", body = ErrorBody),
    ),
)]
#[get("/webhooks/{id}")]
async fn show(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::read(Resource::Webhooks))?;
    let (owner, id) = (caller.user.id, WebhookId::from(id.into_inner()));
    let hook = state.db.run(move |c| webhooks::get(c, owner, id)).await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(hook)))
}

/// Add a webhook
///
/// The answer carries the signing secret, once.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "create_webhook",
    security(("api_key_header" = ["webhooks:write"]), ("bearer" = ["webhooks:write"]), ("api_key_query" = ["webhooks:write"])),
    request_body = NewSubscription,
    responses(
        (status = 201, description = "The new webhook, with its signing secret", body = WebhookJson),
        BodyErrors,
    ),
)]
#[post("/webhooks")]
async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: Object<NewSubscription>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::write(Resource::Webhooks))?;
    let (actor, new) = (caller.actor(), body.0);
    let allow_private = state.delivery.webhook_allow_private;
    let hook = state
        .db
        .write(move |c| webhooks::create(c, &actor, new, allow_private))
        .await?;
    let secret = hook.secret.clone();
    Ok(HttpResponse::Created().json(WebhookJson {
        secret: Some(secret),
        ..WebhookJson::from(hook)
    }))
}

/// Change a webhook
///
/// Changes the fields sent. Turning a webhook `On` again clears why keyport turned it off.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "update_webhook",
    security(("api_key_header" = ["webhooks:write"]), ("bearer" = ["webhooks:write"]), ("api_key_query" = ["webhooks:write"])),
    params(("id" = i64, Path, description = "The webhook's id")),
    request_body = SubscriptionChanges,
    responses(
        (status = 200, description = "The changed webhook", body = WebhookJson),
        BodyErrors,
        (status = 404, description = "You have no webhook with this id", body = ErrorBody),
    ),
)]
#[patch("/webhooks/{id}")]
async fn update(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<PathId>,
    body: Object<SubscriptionChanges>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::write(Resource::Webhooks))?;
    let (owner, id, changes) = (caller.user.id, WebhookId::from(id.into_inner()), body.0);
    let allow_private = state.delivery.webhook_allow_private;
    let hook = state
        .db
        .write(move |c| webhooks::update(c, owner, id, changes, allow_private))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(hook)))
}

/// Delete a webhook
///
/// Its pending deliveries are not made, and its delivery history goes with it.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "delete_webhook",
    security(("api_key_header" = ["webhooks:write"]), ("bearer" = ["webhooks:write"]), ("api_key_query" = ["webhooks:write"])),
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        KeyErrors,
        (status = 404, description = "You have no webhook with this id", body = ErrorBody),
    ),
)]
#[delete("/webhooks/{id}")]
async fn delete(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::write(Resource::Webhooks))?;
    let (actor, id) = (caller.actor(), WebhookId::from(id.into_inner()));
    state
        .db
        .write(move |c| webhooks::delete(c, &actor, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
