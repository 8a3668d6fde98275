//! Signing in and out.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Layout, html, html_status, redirect};
use super::session::{self, LOGIN};
use super::{device_cookie, settings};
use crate::AppState;
use crate::domain::mail::notices;
use crate::domain::sign_in_limits::SignInClient;
use crate::domain::{self, accounts};
use crate::http::error::Error;
use crate::web::password_attempts::{SIGN_IN_GUESSING, password_attempt};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(home))
        .service(web::resource(LOGIN).get(show).post(submit))
        .service(web::resource("/logout").post(logout));
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn home() -> HttpResponse {
    redirect(settings::urls::INDEX)
}

async fn show(
    session: Session,
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, Error> {
    let page = LoginPage {
        layout: Layout::anonymous(&req, &session)?,
        email: String::new(),
        next: safe_next(query.next.as_deref()).to_owned(),
        error: None,
    };
    html(&page)
}

async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Error> {
    let LoginForm {
        email,
        password,
        next,
    } = form.into_inner();
    let next = safe_next(next.as_deref()).to_owned();
    let (account, client) = match password_attempt(&req, &state, &email, SIGN_IN_GUESSING).await {
        Ok(counted) => counted,
        Err(throttled) => return refused(&req, &session, email, next, throttled),
    };
    match accounts::sign_in(&state.db, email.clone(), password).await {
        Ok(user) => {
            session::sign_in(&session, &user)?;
            let new_device = matches!(client, SignInClient::Address(_));
            let ip = crate::http::client_address::client_ip(&req);
            let browser = req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            state
                .db
                .write(move |c| {
                    notices::signed_in(c, &user, new_device, ip.as_deref(), &browser)
                        .map_err(Error::internal)
                })
                .await?;
            let mut res = redirect(&next);
            device_cookie::remember(&mut res, &state, &account, &client);
            Ok(res)
        }
        // One message for a wrong email and a wrong password.
        Err(e @ (domain::Error::BadCredentials | domain::Error::AccountDisabled)) => {
            refused(&req, &session, email, next, e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The sign-in page again, with what went wrong and what was typed.
fn refused(
    req: &HttpRequest,
    session: &Session,
    email: String,
    next: String,
    error: Error,
) -> Result<HttpResponse, Error> {
    let page = LoginPage {
        layout: Layout::anonymous(req, session)?,
        email,
        next,
        error: Some(error.message.clone()),
    };
    let mut res = html_status(error.status, &page)?;
    error.set_retry_after(&mut res);
    Ok(res)
}

async fn logout(session: Session) -> HttpResponse {
    session.purge();
    redirect(LOGIN)
}

/// Where to land after signing in: a path on this site, or the default page. `next` comes
/// from the address bar, so anyone can craft it: it must start with exactly one `/`, hold no
/// `\\` and no control character (browsers drop tabs and newlines, so `/\t/evil.example`
/// becomes `//evil.example`; CR and LF would break the header), and resolve to this site.
fn safe_next(next: Option<&str>) -> &str {
    const DEFAULT: &str = settings::urls::INDEX;
    let Some(next) = next else {
        return DEFAULT;
    };
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    let Ok(base) = url::Url::parse("http://keyport.invalid/") else {
        return DEFAULT;
    };
    let stays = base
        .join(next)
        .is_ok_and(|url| url.origin() == base.origin() && !url.path().starts_with("//"));
    if plain && stays { next } else { DEFAULT }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_on_this_site_or_the_default_page() {
        for kept in ["/settings/api-access", "/admin/api-management?q=a%20b", "/"] {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        for refused in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\r\nX: 1",
            "/\n",
            "/\0",
            "https://evil.example/",
            "evil.example",
            "/a\\b",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), "/settings", "{refused:?}");
        }
        assert_eq!(safe_next(None), "/settings");
    }
}
