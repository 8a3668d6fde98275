//! `/api/v1/webhooks`: the caller's own webhook subscriptions.

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Serialize;

use super::auth::ApiCaller;
use crate::AppState;
use crate::domain::webhooks::{self, NewSubscription, SubscriptionChanges};
use crate::models::{Entity, OperationType, Webhook, WebhookStatus};
use crate::web::error::Error;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/webhooks").get(list).post(create))
        .service(
            web::resource("/webhooks/{id}")
                .get(show)
                .patch(update)
                .delete(delete),
        );
}

/// A webhook as programs see it. The signing secret is only in the answer to POST.
#[derive(Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<Webhook> for WebhookJson {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
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

async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, Error> {
    let owner = caller.user.id;
    let hooks = state.db.run(move |c| webhooks::list(c, owner)).await?;
    let data: Vec<WebhookJson> = hooks.into_iter().map(WebhookJson::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "data": data })))
}

async fn show(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let (owner, id) = (caller.user.id, id.into_inner());
    let hook = state.db.run(move |c| webhooks::get(c, owner, id)).await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(hook)))
}

async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<NewSubscription>,
) -> Result<HttpResponse, Error> {
    let (actor, new) = (caller.actor(), body.into_inner());
    let hook = state
        .db
        .run(move |c| webhooks::create(c, &actor, new))
        .await?;
    let secret = hook.secret.clone();
    Ok(HttpResponse::Created().json(WebhookJson {
        secret: Some(secret),
        ..WebhookJson::from(hook)
    }))
}

async fn update(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    body: web::Json<SubscriptionChanges>,
) -> Result<HttpResponse, Error> {
    let (owner, id, changes) = (caller.user.id, id.into_inner(), body.into_inner());
    let hook = state
        .db
        .run(move |c| webhooks::update(c, owner, id, changes))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookJson::from(hook)))
}

async fn delete(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let (actor, id) = (caller.actor(), id.into_inner());
    state
        .db
        .run(move |c| webhooks::delete(c, &actor, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
