//! Invitations (`/admin/people/invitations`): admins invite a person by email, name and role,
//! and resend or revoke what is waiting; support staff read the list.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::domain::people::{self, Invitation};
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{Role, User, UserId};
use crate::web::pages::{Flash, Layout, html, html_status, redirect, redirect_after_post};
use crate::web::route::fill;
use crate::web::session::{Admin, SignedIn, Staff};
use crate::web::views::When;

struct WaitingRow {
    id: i64,
    url: String,
    name: String,
    email: String,
    role: &'static str,
    invited: When,
    /// When the link stops working; none once it has.
    works_until: Option<When>,
}

#[derive(Template)]
#[template(path = "admin/invitations.html")]
struct InvitationsPage {
    layout: Layout,
    waiting: Vec<WaitingRow>,
    /// What was typed, shown again with `error`.
    email: String,
    name: String,
    role: Role,
    error: Option<String>,
    /// The one revoke to confirm.
    revoking: Option<i64>,
    shown_at_most: i64,
}

impl InvitationsPage {
    fn roles(&self) -> [(&'static str, &'static str, bool); 3] {
        [Role::User, Role::Support, Role::Admin].map(|r| (r.as_str(), r.label(), r == self.role))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteForm {
    email: String,
    name: String,
    role: String,
}

async fn page(state: &AppState, me: &SignedIn) -> Result<InvitationsPage, Error> {
    let now = crate::db::now();
    let waiting = state
        .db
        .run(people::invitations)
        .await?
        .into_iter()
        .map(|(person, until): (User, _)| WaitingRow {
            id: person.id.0,
            url: fill(urls::PERSON, &[person.id.0]),
            role: person.role.label(),
            invited: When::from(&person.invited_at.unwrap_or(person.created_at)),
            works_until: until.filter(|t| *t > now).as_ref().map(When::from),
            name: person.name,
            email: person.email,
        })
        .collect();
    Ok(InvitationsPage {
        layout: Layout::for_user(me)?,
        waiting,
        email: String::new(),
        name: String::new(),
        role: Role::User,
        error: None,
        revoking: None,
        shown_at_most: people::INVITATIONS_SHOWN,
    })
}

pub(super) async fn show(
    state: web::Data<AppState>,
    Staff(me): Staff,
) -> Result<HttpResponse, Error> {
    html(&page(&state, &me).await?)
}

pub(super) async fn invite(
    state: web::Data<AppState>,
    Admin(me): Admin,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, Error> {
    let InviteForm { email, name, role } = form.into_inner();
    let admin = me.actor();
    let invited = match role.parse::<Role>() {
        Ok(role) => {
            let (e, n) = (email.clone(), name.clone());
            state
                .db
                .write(move |c| {
                    people::invite(
                        c,
                        &admin,
                        &Invitation {
                            email: &e,
                            name: &n,
                            role,
                        },
                    )
                })
                .await
                .map_err(Error::from)
        }
        Err(_) => Err(Error::unprocessable("Role: choose user, support or admin.")),
    };
    match invited {
        Ok(person) => {
            Flash::success(format!(
                "Invitation sent to {}. The link works once, for {} days.",
                person.email,
                people::INVITATION_DAYS
            ))
            .set(&me.session)?;
            Ok(redirect(urls::INVITATIONS))
        }
        Err(refused) if refused.status.is_client_error() => {
            let mut again = page(&state, &me).await?;
            again.role = role.parse().unwrap_or(Role::User);
            again.email = email;
            again.name = name;
            again.error = Some(refused.message.clone());
            html_status(refused.status, &again)
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn confirm_revoke(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner().0;
    let mut page = page(&state, &me).await?;
    if !page.waiting.iter().any(|row| row.id == id) {
        return Err(Error::not_found_with(
            "There is no invitation waiting for this person.",
        ));
    }
    page.revoking = Some(id);
    html(&page)
}

pub(super) async fn resend(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    settle(&state, &me, &req, id.into_inner(), false).await
}

pub(super) async fn revoke(
    state: web::Data<AppState>,
    Admin(me): Admin,
    id: web::Path<PathId>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    settle(&state, &me, &req, id.into_inner(), true).await
}

/// Resends (a new link; the old one stops working) or revokes an invitation, then lists the
/// invitations again with what was done.
async fn settle(
    state: &AppState,
    me: &SignedIn,
    req: &HttpRequest,
    PathId(id): PathId,
    revoking: bool,
) -> Result<HttpResponse, Error> {
    let (id, admin) = (UserId(id), me.actor());
    let person = state
        .db
        .write(move |c| {
            if revoking {
                people::revoke_invitation(c, &admin, id)
            } else {
                people::resend_invitation(c, &admin, id)
            }
        })
        .await?;
    Flash::success(if revoking {
        format!(
            "Invitation to {} revoked: the link no longer works.",
            person.email
        )
    } else {
        format!(
            "A new invitation is on its way to {}; the link in the earlier one no longer works.",
            person.email
        )
    })
    .set(&me.session)?;
    Ok(redirect_after_post(req, urls::INVITATIONS))
}
