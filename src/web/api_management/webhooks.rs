//! A person's webhook in API Management: its status page, which admins and support staff read,
//! and redeliver, which only admins may.

use actix_web::{HttpRequest, HttpResponse, web};

use super::urls;
use crate::AppState;
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{DeliveryId, Role, UserId, WebhookId};
use crate::web::pages::{html, redirect_after_post};
use crate::web::route::fill;
use crate::web::session::{Admin, Staff};
use crate::web::webhook_status::{self, ReportQuery};

pub(super) async fn status_page(
    state: web::Data<AppState>,
    Staff(me): Staff,
    path: web::Path<(PathId, PathId)>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let (PathId(user), PathId(id)) = path.into_inner();
    let report = webhook_status::load(&state, UserId(user), WebhookId(id), &query).await?;
    let ids = [user, id];
    let redeliver = (me.user.role == Role::Admin).then_some((urls::REDELIVER, &ids[..]));
    let page = webhook_status::page(
        &me,
        report,
        &query,
        fill(urls::WEBHOOK, &ids),
        (fill(urls::USER, &[user]), "API Management"),
        redeliver,
    )?;
    html(&page)
}

pub(super) async fn redeliver(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, PathId, PathId)>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (PathId(user), PathId(id), PathId(delivery)) = path.into_inner();
    webhook_status::redeliver(
        &state,
        &me,
        UserId(user),
        WebhookId(id),
        DeliveryId(delivery),
    )
    .await?;
    Ok(redirect_after_post(&req, &fill(urls::WEBHOOK, &[user, id])))
}
