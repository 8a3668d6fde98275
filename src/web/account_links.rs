//! The pages the one-time links in mails open, and Forgot password: `/invitations/{token}`
//! (an invited person chooses a password and is signed in), `/password-reset` (ask for a
//! link) and `/password-reset/{token}` (choose a new password). Nobody is signed in here.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Flash, Layout, html, html_status, redirect};
use super::session;
use crate::AppState;
use crate::domain::accounts::{self, NewPassword};
use crate::domain::{people, sign_in_limits};
use crate::http::client_address::{client_addr, client_ip};
use crate::http::error::Error;
use crate::models::User;
use crate::models::account_link::LinkPurpose;

pub const INVITATION: &str = "/invitations/{token}";
pub const FORGOT: &str = "/password-reset";
pub const RESET: &str = "/password-reset/{token}";

pub fn routes(cfg: &mut web::ServiceConfig) {
    use LinkPurpose::{Invitation, PasswordReset};
    cfg.service(
        web::resource(INVITATION)
            .get(move |s, session, req, path| show(s, session, req, path, Invitation))
            .post(move |s, session, req, path, form| {
                choose(s, session, req, path, form, Invitation)
            }),
    )
    .service(web::resource(FORGOT).get(forgot).post(ask_for_link))
    .service(
        web::resource(RESET)
            .get(move |s, session, req, path| show(s, session, req, path, PasswordReset))
            .post(move |s, session, req, path, form| {
                choose(s, session, req, path, form, PasswordReset)
            }),
    );
}

/// Choosing a password with a link: for an invitation or a reset.
#[derive(Template)]
#[template(path = "auth/choose_password.html")]
struct ChoosePage {
    layout: Layout,
    purpose: LinkPurpose,
    person: User,
    /// Where the form posts: the link's own address.
    action: String,
    error: Option<String>,
    min_chars: usize,
    max_chars: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChooseForm {
    new_password: String,
    confirm_password: String,
}

#[derive(Deserialize)]
struct TokenPath {
    token: String,
}

async fn holder(state: &AppState, token: String, purpose: LinkPurpose) -> Result<User, Error> {
    Ok(state
        .db
        .run(move |c| people::link_holder(c, &token, purpose))
        .await?)
}

async fn choose_page(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    token: String,
    purpose: LinkPurpose,
    error: Option<String>,
) -> Result<ChoosePage, Error> {
    let action = match purpose {
        LinkPurpose::Invitation => people::invitation_path(&token),
        LinkPurpose::PasswordReset => people::reset_path(&token),
    };
    Ok(ChoosePage {
        layout: Layout::anonymous(req, session)?,
        person: holder(state, token, purpose).await?,
        purpose,
        action,
        error,
        min_chars: accounts::MIN_PASSWORD_CHARS,
        max_chars: accounts::MAX_PASSWORD_CHARS,
    })
}

/// The page a link opens: the form to choose a password, or why the link does not work.
async fn show(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    path: web::Path<TokenPath>,
    purpose: LinkPurpose,
) -> Result<HttpResponse, Error> {
    let token = path.into_inner().token;
    html(&choose_page(&state, &req, &session, token, purpose, None).await?)
}

/// The two entries, checked and hashed (Argon2 off the async threads).
async fn new_password(form: ChooseForm) -> Result<NewPassword, Error> {
    if form.new_password != form.confirm_password {
        return Err(Error::unprocessable(
            "New password: the two entries differ. Type the same password twice.",
        ));
    }
    let plain = form.new_password;
    Ok(web::block(move || NewPassword::new(&plain))
        .await
        .map_err(Error::internal)??)
}

/// Sets the password with the link, then signs this browser in; a refused password shows the
/// form again with why.
async fn choose(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    path: web::Path<TokenPath>,
    form: web::Form<ChooseForm>,
    purpose: LinkPurpose,
) -> Result<HttpResponse, Error> {
    let token = path.into_inner().token;
    let ip = client_ip(&req);
    let done = match new_password(form.into_inner()).await {
        Ok(password) => {
            let t = token.clone();
            state
                .db
                .write(move |c| match purpose {
                    LinkPurpose::Invitation => people::accept_invitation(c, &t, &password, ip),
                    LinkPurpose::PasswordReset => people::reset_password(c, &t, &password, ip),
                })
                .await
                .map_err(Error::from)
        }
        Err(refused) => Err(refused),
    };
    match done {
        Ok(person) => {
            session::sign_in(&session, &person)?;
            let welcome = match purpose {
                LinkPurpose::Invitation => format!("Welcome to keyport, {}.", person.name),
                LinkPurpose::PasswordReset => {
                    "Password changed. Every other session of yours has been signed out.".into()
                }
            };
            Flash::success(welcome).set(&session)?;
            Ok(redirect(super::settings::urls::INDEX))
        }
        // A used or expired link is its own page; a refused password, the form again.
        Err(refused) if refused.status == actix_web::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let page = choose_page(
                &state,
                &req,
                &session,
                token,
                purpose,
                Some(refused.message.clone()),
            )
            .await?;
            html_status(refused.status, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/forgot_password.html")]
struct ForgotPage {
    layout: Layout,
    email: String,
    /// The request was taken: the same words whether or not the email has an account.
    sent: bool,
    error: Option<String>,
    minutes: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotForm {
    email: String,
}

/// The most of an email this form takes (RFC 5321's limit).
const MAX_EMAIL_BYTES: usize = 254;

async fn forgot(session: Session, req: HttpRequest) -> Result<HttpResponse, Error> {
    html(&ForgotPage {
        layout: Layout::anonymous(&req, &session)?,
        email: String::new(),
        sent: false,
        error: None,
        minutes: people::RESET_MINUTES,
    })
}

/// Forgot password. The answer must not tell whether the email has an account, in its words
/// or its time: the request is counted against the limits (the same work for every email),
/// and the lookup, the link and the mail happen after the answer has gone.
async fn ask_for_link(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, Error> {
    let email = form.into_inner().email.trim().to_owned();
    let mut page = ForgotPage {
        layout: Layout::anonymous(&req, &session)?,
        email: email.clone(),
        sent: false,
        error: None,
        minutes: people::RESET_MINUTES,
    };
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES || email.chars().any(char::is_control) {
        let refused = Error::unprocessable("Email: enter the address you sign in with.");
        page.error = Some(refused.message.clone());
        return html_status(refused.status, &page);
    }
    let (account, address) = (crate::models::user::normalize(&email), client_addr(&req));
    let counted = state
        .db
        .write(move |c| {
            sign_in_limits::reset_request(c, &account, address, sign_in_limits::now_micros())
                .map_err(Error::internal)
        })
        .await?;
    if let Err(wait) = counted {
        let refused = Error::too_many("Too many password reset requests.", wait);
        page.error = Some(refused.message.clone());
        let mut res = html_status(refused.status, &page)?;
        refused.set_retry_after(&mut res);
        return Ok(res);
    }
    let (db, ip) = (state.db.clone(), client_ip(&req));
    actix_web::rt::spawn(async move {
        if let Err(e) = db
            .write(move |c| people::request_password_reset(c, &email, ip))
            .await
        {
            tracing::warn!(error = %e, "a password reset link could not be made");
        }
    });
    page.sent = true;
    html(&page)
}
