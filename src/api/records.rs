//! `/api/v1/contacts`, `/companies`, `/jobs`: one set of handlers for every kind of record.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::auth::ApiCaller;
use crate::AppState;
use crate::domain::records::{self, Record};
use crate::models::company::Company;
use crate::models::contact::Contact;
use crate::models::job::Job;
use crate::web::error::Error;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    resource::<Contact>(cfg, "contacts");
    resource::<Company>(cfg, "companies");
    resource::<Job>(cfg, "jobs");
}

fn resource<R: Record>(cfg: &mut web::ServiceConfig, name: &str) {
    cfg.service(
        web::resource(format!("/{name}"))
            .get(list::<R>)
            .post(create::<R>),
    )
    .service(
        web::resource(format!("/{name}/{{id}}"))
            .get(show::<R>)
            .patch(update::<R>)
            .delete(delete::<R>),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<i64>,
    after: Option<i64>,
    /// Accepted here so that links carrying the key still parse.
    #[allow(dead_code)]
    api_key: Option<String>,
}

/// A page of records, oldest first; `next_after` is the cursor for the next page.
#[derive(Serialize)]
pub struct Page<R> {
    pub data: Vec<R>,
    pub next_after: Option<i64>,
}

async fn list<R: Record>(
    state: web::Data<AppState>,
    _: ApiCaller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let PageQuery { limit, after, .. } = query.into_inner();
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::unprocessable(format!(
            "limit: must be between 1 and {MAX_LIMIT}"
        )));
    }
    let mut data = state
        .db
        .run(move |c| records::page::<R>(c, after, limit + 1))
        .await?;
    let next_after = if data.len() as i64 > limit {
        data.truncate(limit as usize);
        data.last().map(R::id)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(Page { data, next_after }))
}

async fn show<R: Record>(
    state: web::Data<AppState>,
    _: ApiCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let record = state.db.run(move |c| records::get::<R>(c, id)).await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn create<R: Record>(
    state: web::Data<AppState>,
    caller: ApiCaller,
    fields: web::Json<R::Fields>,
) -> Result<HttpResponse, Error> {
    let actor = caller.user.id;
    let fields = fields.into_inner();
    let record = state
        .db
        .run(move |c| records::create::<R>(c, actor, fields))
        .await?;
    Ok(HttpResponse::Created().json(record))
}

async fn update<R: Record>(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    fields: web::Json<R::Fields>,
) -> Result<HttpResponse, Error> {
    let (actor, id, fields) = (caller.user.id, id.into_inner(), fields.into_inner());
    let record = state
        .db
        .run(move |c| records::update::<R>(c, actor, id, fields))
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn delete<R: Record>(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let (actor, id) = (caller.user.id, id.into_inner());
    state
        .db
        .run(move |c| records::delete::<R>(c, actor, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
