//! My Settings & Preferences → Password & Sign-in: change the password, sign out everywhere.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::domain::accounts;
use crate::http::error::Error;
use crate::web::pages::{Flash, Layout, html, html_status, redirect};
use crate::web::session::SignedIn;

#[derive(Template)]
#[template(path = "settings/password.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
    min_chars: usize,
    max_chars: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

fn page(me: &SignedIn, error: Option<String>) -> Result<PasswordPage, Error> {
    Ok(PasswordPage {
        layout: Layout::for_user(me)?,
        error,
        min_chars: accounts::MIN_PASSWORD_CHARS,
        max_chars: accounts::MAX_PASSWORD_CHARS,
    })
}

pub(super) async fn show(me: SignedIn) -> Result<HttpResponse, Error> {
    html(&page(&me, None)?)
}

pub(super) async fn change(
    state: web::Data<AppState>,
    mut me: SignedIn,
    req: HttpRequest,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, Error> {
    let form = form.into_inner();
    match change_password(&state, &mut me, &req, form).await {
        Ok(()) => {
            // Every session of the user ended with the change; this one goes on under a new
            // key.
            me.session.renew();
            Flash::success("Password changed. Every other session of yours has been signed out.")
                .set(&me.session)?;
            Ok(redirect(urls::PASSWORD))
        }
        Err(refused) => {
            let mut res = html_status(refused.status, &page(&me, Some(refused.message.clone()))?)?;
            refused.set_retry_after(&mut res);
            Ok(res)
        }
    }
}

async fn change_password(
    state: &AppState,
    me: &mut SignedIn,
    req: &HttpRequest,
    form: ChangeForm,
) -> Result<(), Error> {
    me.confirm_password(
        state,
        req,
        form.current_password,
        "Current password: that is not your password.",
    )
    .await?;
    if form.new_password != form.confirm_password {
        return Err(Error::unprocessable(
            "New password: the two entries differ. Type the same password twice.",
        ));
    }
    let (id, actor) = (me.user.id, me.actor());
    let plain = form.new_password;
    let password = web::block(move || accounts::NewPassword::new(&plain))
        .await
        .map_err(Error::internal)??;
    state
        .db
        .write(move |c| accounts::change_password(c, &actor, id, &password))
        .await?;
    Ok(())
}

/// Ends every session of the user, this one included, on every instance.
pub(super) async fn sign_out_everywhere(
    state: web::Data<AppState>,
    me: SignedIn,
) -> Result<HttpResponse, Error> {
    let id = me.user.id;
    state
        .db
        .write(move |c| accounts::sign_out_everywhere(c, id))
        .await?;
    // A fresh, signed-out session carries the message to the sign-in page.
    me.session.clear();
    me.session.renew();
    Flash::success("You have been signed out everywhere, including here.").set(&me.session)?;
    Ok(redirect(crate::web::session::LOGIN))
}
