//! `/api/v1/contacts`, `/companies`, `/jobs`: one set of generic handlers for every kind of
//! record. `record_endpoints!` gives each kind its routes and its part of the OpenAPI document
//! (utoipa documents a handler per path, so each kind gets thin named handlers).

use std::borrow::Cow;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::ApiCaller;
use crate::AppState;
use crate::domain::records::{self, Record};
use crate::http::error::Error;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

pub fn routes(cfg: &mut ServiceConfig) {
    contacts::routes(cfg);
    companies::routes(cfg);
    jobs::routes(cfg);
}

/// Paging through a list: `limit` records after the record `after`. Other parameters are
/// refused before this is read (`body::known_query_parameters`), except the key.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many records to return.
    #[param(minimum = 1, maximum = 100, default = 50)]
    limit: Option<i64>,
    /// The `next_after` of the previous page; leave it out for the first page.
    after: Option<i64>,
}

/// A page of records, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<R> {
    pub data: Vec<R>,
    /// Pass it as `after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}

/// The body of POST for a kind of record: its fields, with the required ones present.
pub struct New<R>(std::marker::PhantomData<R>);

impl<R: Record + utoipa::ToSchema> utoipa::PartialSchema for New<R>
where
    R::Fields: utoipa::ToSchema,
{
    fn schema() -> RefOr<Schema> {
        let mut schema = <R::Fields as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.required = R::REQUIRED.iter().map(|f| f.to_string()).collect();
            object.description = Some(format!("A new {}.", R::ENTITY.as_str().to_lowercase()));
        }
        schema
    }
}

impl<R: Record + utoipa::ToSchema> utoipa::ToSchema for New<R>
where
    R::Fields: utoipa::ToSchema,
{
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("New{}", R::name()))
    }
}

async fn list<R: Record>(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let PageQuery { limit, after } = query.into_inner();
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

async fn show<R: Record>(state: web::Data<AppState>, id: i64) -> Result<HttpResponse, Error> {
    let record = state.db.run(move |c| records::get::<R>(c, id)).await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn create<R: Record>(
    state: web::Data<AppState>,
    caller: ApiCaller,
    fields: R::Fields,
) -> Result<HttpResponse, Error> {
    let actor = caller.user.id;
    let record = state
        .db
        .write(move |c| records::create::<R>(c, actor, fields))
        .await?;
    Ok(HttpResponse::Created().json(record))
}

async fn update<R: Record>(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: i64,
    fields: R::Fields,
) -> Result<HttpResponse, Error> {
    let actor = caller.user.id;
    let record = state
        .db
        .write(move |c| records::update::<R>(c, actor, id, fields))
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn delete<R: Record>(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: i64,
) -> Result<HttpResponse, Error> {
    let actor = caller.user.id;
    state
        .db
        .write(move |c| records::delete::<R>(c, actor, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The five endpoints of one kind of record, documented. `missing` lists what else POST may
/// answer (a reference to a record that does not exist), `update_404` when PATCH answers 404.
macro_rules! record_endpoints {
    (
        $module:ident, $R:ty, $Fields:ty, $New:ident, $tag:literal, $one:literal, $many:literal,
        $list:literal, $item:literal, missing = [$($missing:tt)*], update_404 = $update_404:literal,
        resource = $resource:expr, read = $read:literal, write = $write:literal
    ) => {
        pub mod $module {
            use actix_web::{HttpResponse, delete, get, patch, post, web};

            use super::{Page, PageQuery};

            /// What POST takes.
            pub type $New = super::New<$R>;
            use crate::AppState;
            use crate::api::auth::ApiCaller;
            use crate::api::body::Object;
            use crate::http::openapi::{BodyErrors, ErrorBody, KeyErrors};
            use crate::http::error::Error;
            use crate::domain::scopes::Scope;

            pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
                cfg.service(list)
                    .service(create)
                    .service(show)
                    .service(update)
                    .service(delete);
            }

            #[utoipa::path(
                tag = $tag,
                operation_id = concat!("list_", stringify!($module)),
                security(("api_key_header" = [$read]), ("bearer" = [$read]), ("api_key_query" = [$read])),
                summary = concat!("List ", $many),
                description = concat!("A page of ", $many, ", oldest first. Follow `next_after` for the next page."),
                params(PageQuery),
                responses(
                    (status = 200, description = concat!("A page of ", $many), body = Page<$R>),
                    KeyErrors,
                    (status = 422, description = "`limit` is out of range", body = ErrorBody),
                ),
            )]
            #[get($list)]
            async fn list(
                state: web::Data<AppState>,
                caller: ApiCaller,
                query: web::Query<PageQuery>,
            ) -> Result<HttpResponse, Error> {
                caller.require(Scope::read($resource))?;
                super::list::<$R>(state, query).await
            }

            #[utoipa::path(
                tag = $tag,
                operation_id = concat!("create_", stringify!($module)),
                security(("api_key_header" = [$write]), ("bearer" = [$write]), ("api_key_query" = [$write])),
                summary = concat!("Create a ", $one),
                description = concat!("Creates a ", $one, " and sends it to the webhooks subscribed to its creation."),
                request_body = $New,
                responses(
                    (status = 201, description = concat!("The new ", $one), body = $R),
                    BodyErrors,
                    $($missing)*
                ),
            )]
            #[post($list)]
            async fn create(
                state: web::Data<AppState>,
                caller: ApiCaller,
                fields: Object<$Fields>,
            ) -> Result<HttpResponse, Error> {
                caller.require(Scope::write($resource))?;
                super::create::<$R>(state, caller, fields.0).await
            }

            #[utoipa::path(
                tag = $tag,
                operation_id = concat!("get_", stringify!($module)),
                security(("api_key_header" = [$read]), ("bearer" = [$read]), ("api_key_query" = [$read])),
                summary = concat!("Get a ", $one),
                params(("id" = i64, Path, description = concat!("The ", $one, "'s id"))),
                responses(
                    (status = 200, description = concat!("The ", $one), body = $R),
                    KeyErrors,
                    (status = 404, description = concat!("There is no ", $one, " with this id"), body = ErrorBody),
                ),
            )]
            #[get($item)]
            async fn show(
                state: web::Data<AppState>,
                caller: ApiCaller,
                id: web::Path<crate::http::path_id::PathId>,
            ) -> Result<HttpResponse, Error> {
                caller.require(Scope::read($resource))?;
                super::show::<$R>(state, id.into_inner().0).await
            }

            #[utoipa::path(
                tag = $tag,
                operation_id = concat!("update_", stringify!($module)),
                security(("api_key_header" = [$write]), ("bearer" = [$write]), ("api_key_query" = [$write])),
                summary = concat!("Change a ", $one),
                description = "Changes the fields sent and leaves the others; `null` clears an optional field. The change is sent to the webhooks subscribed to updates.",
                params(("id" = i64, Path, description = concat!("The ", $one, "'s id"))),
                request_body = $Fields,
                responses(
                    (status = 200, description = concat!("The changed ", $one), body = $R),
                    BodyErrors,
                    (status = 404, description = $update_404, body = ErrorBody),
                ),
            )]
            #[patch($item)]
            async fn update(
                state: web::Data<AppState>,
                caller: ApiCaller,
                id: web::Path<crate::http::path_id::PathId>,
                fields: Object<$Fields>,
            ) -> Result<HttpResponse, Error> {
                caller.require(Scope::write($resource))?;
                super::update::<$R>(state, caller, id.into_inner().0, fields.0).await
            }

            #[utoipa::path(
                tag = $tag,
                operation_id = concat!("delete_", stringify!($module)),
                security(("api_key_header" = [$write]), ("bearer" = [$write]), ("api_key_query" = [$write])),
                summary = concat!("Delete a ", $one),
                description = concat!("Deletes the ", $one, "; the webhooks subscribed to deletions receive it as it was."),
                params(("id" = i64, Path, description = concat!("The ", $one, "'s id"))),
                responses(
                    (status = 204, description = "Deleted"),
                    KeyErrors,
                    (status = 404, description = concat!("There is no ", $one, " with this id"), body = ErrorBody),
                ),
            )]
            #[delete($item)]
            async fn delete(
                state: web::Data<AppState>,
                caller: ApiCaller,
                id: web::Path<crate::http::path_id::PathId>,
            ) -> Result<HttpResponse, Error> {
                caller.require(Scope::write($resource))?;
                super::delete::<$R>(state, caller, id.into_inner().0).await
            }
        }
    };
}

record_endpoints!(
    contacts,
    crate::models::contact::Contact,
    crate::domain::records::ContactFields,
    NewContact,
    "Contacts",
    "contact",
    "contacts",
    "/contacts",
    "/contacts/{id}",
    missing = [(
        status = 404,
        description = "`company_id` names no company; `field` says so",
        body = ErrorBody
    ),],
    update_404 =
        "There is no contact with this id, or `company_id` names no company (then `field` says so)",
    resource = crate::domain::scopes::Resource::Contacts,
    read = "contacts:read",
    write = "contacts:write"
);
record_endpoints!(
    companies,
    crate::models::company::Company,
    crate::domain::records::CompanyFields,
    NewCompany,
    "Companies",
    "company",
    "companies",
    "/companies",
    "/companies/{id}",
    missing = [],
    update_404 = "There is no company with this id",
    resource = crate::domain::scopes::Resource::Companies,
    read = "companies:read",
    write = "companies:write"
);
record_endpoints!(
    jobs,
    crate::models::job::Job,
    crate::domain::records::JobFields,
    NewJob,
    "Jobs",
    "job",
    "jobs",
    "/jobs",
    "/jobs/{id}",
    missing = [(
        status = 404,
        description = "`company_id` names no company; `field` says so",
        body = ErrorBody
    ),],
    update_404 =
        "There is no job with this id, or `company_id` names no company (then `field` says so)",
    resource = crate::domain::scopes::Resource::Jobs,
    read = "jobs:read",
    write = "jobs:write"
);
