//! First start: the one-time setup link opens this page, which creates the first admin.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Flash, Layout, html, html_status, redirect};
use super::session;
use crate::AppState;
use crate::domain::{self, setup};
use crate::http::error::Error;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/setup").get(show).post(submit));
}

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    layout: Layout,
    token: String,
    email: String,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupForm {
    token: String,
    email: String,
    name: String,
    password: String,
}

async fn show(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, Error> {
    let token = query.into_inner().token;
    let check = token.clone();
    if !state
        .db
        .run(move |c| setup::token_is_valid(c, &check))
        .await?
    {
        return Err(Error::not_found_with(
            "This setup link has already been used or is not valid.",
        ));
    }
    html(&SetupPage {
        layout: Layout::anonymous(&req, &session)?,
        token,
        email: String::new(),
        name: String::new(),
        error: None,
    })
}

async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, Error> {
    let SetupForm {
        token,
        email,
        name,
        password,
    } = form.into_inner();
    let (t, e, n) = (token.clone(), email.clone(), name.clone());
    match state
        .db
        .write(move |c| setup::create_first_admin(c, &t, &e, &n, &password))
        .await
    {
        Ok(admin) => {
            session::sign_in(&session, &admin)?;
            Flash::success(format!(
                "Welcome, {}. You are keyport's first admin.",
                admin.name
            ))
            .set(&session)?;
            Ok(redirect(super::settings::urls::INDEX))
        }
        Err(domain::Error::Invalid(message)) => {
            let page = SetupPage {
                layout: Layout::anonymous(&req, &session)?,
                token,
                email,
                name,
                error: Some(message),
            };
            html_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}
