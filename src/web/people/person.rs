//! A person's page (`/admin/people/{id}`): who they are and where their account stands, with
//! Change role, Disable account / Enable account and Send password reset for admins — each
//! confirmed first (GET shows what will happen, POST does it) — and their account's history.
//! Support staff read it without any form.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::domain::audit::{Actor, By};
use crate::domain::people::{self, Person};
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::{AccountState, Role, User, UserId};
use crate::web::api_management::urls as api_management;
use crate::web::pages::{Flash, Layout, html, html_status, redirect_after_post};
use crate::web::route::fill;
use crate::web::session::{Admin, SignedIn, Staff};
use crate::web::views::{AuditRow, When};

/// What an admin may change about a person: the last segment of its address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Role(Role),
    Disable,
    Enable,
    PasswordReset,
}

impl Change {
    /// The change `/admin/people/{user}/{action}` names (with the form's `role`).
    fn parse(action: &str, form: &ChangeForm) -> Result<Change, Error> {
        Ok(match action {
            "role" => {
                let role = form.role.as_deref().unwrap_or_default();
                Change::Role(
                    role.parse().map_err(|_| {
                        Error::unprocessable("Role: choose user, support or admin.")
                    })?,
                )
            }
            "disable" => Change::Disable,
            "enable" => Change::Enable,
            "password-reset" => Change::PasswordReset,
            _ => return Err(Error::not_found()),
        })
    }

    /// Makes the change as `admin`: the person as they are now.
    fn apply(
        self,
        conn: &mut crate::db::DbConnection,
        admin: &Actor,
        id: UserId,
    ) -> crate::domain::Result<User> {
        let by = By::Person(admin);
        match self {
            Change::Role(role) => people::change_role(conn, by, id, role),
            Change::Disable => people::set_disabled(conn, by, id, true),
            Change::Enable => people::set_disabled(conn, by, id, false),
            Change::PasswordReset => people::send_password_reset(conn, admin, id),
        }
    }

    /// What the page says once it is done.
    fn done(self, person: &User) -> String {
        let name = &person.name;
        match self {
            Change::Role(role) => format!(
                "{name} is now {}. It applies to their next request.",
                role.label()
            ),
            Change::Disable => format!(
                "{name}’s account is disabled: they are signed out everywhere, and their keys and webhooks stop until it is enabled again."
            ),
            Change::Enable => format!(
                "{name}’s account is enabled: they can sign in, and their keys and webhooks work again."
            ),
            Change::PasswordReset => format!(
                "A password reset link is on its way to {}. It works once, for {} minutes.",
                person.email,
                people::RESET_MINUTES
            ),
        }
    }
}

/// The role, for a role change (a GET's query or a POST's form).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeForm {
    role: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/person.html")]
struct PersonPage {
    layout: Layout,
    person: User,
    url: String,
    api_management_url: String,
    state: AccountState,
    created: When,
    last_sign_in: Option<When>,
    disabled: Option<When>,
    api_access: Option<When>,
    keys: usize,
    /// While invited: when the link stops working (none once it was used or replaced).
    invitation_expires: Option<When>,
    invitations_url: String,
    audit: Vec<AuditRow>,
    /// The change to confirm, if one was chosen.
    confirm: Option<Change>,
    /// A refused change, said on the page.
    error: Option<String>,
    /// The person is the one looking.
    is_me: bool,
}

impl PersonPage {
    fn roles(&self) -> [(&'static str, &'static str, bool); 3] {
        [Role::User, Role::Support, Role::Admin]
            .map(|r| (r.as_str(), r.label(), r == self.person.role))
    }
}

fn page(
    me: &SignedIn,
    person: Person,
    confirm: Option<Change>,
    error: Option<String>,
) -> Result<PersonPage, Error> {
    let id = person.user.id.0;
    Ok(PersonPage {
        layout: Layout::for_user(me)?,
        url: fill(urls::PERSON, &[id]),
        api_management_url: fill(api_management::USER, &[id]),
        state: person.user.state(),
        created: When::from(&person.user.created_at),
        last_sign_in: person.user.last_sign_in_at.as_ref().map(When::from),
        disabled: person.user.disabled_at.as_ref().map(When::from),
        api_access: person.user.api_access_at.as_ref().map(When::from),
        keys: person.live_keys,
        invitation_expires: person.invitation_expires.as_ref().map(When::from),
        invitations_url: urls::INVITATIONS.to_owned(),
        audit: person.audit.into_iter().map(AuditRow::from).collect(),
        is_me: person.user.id == me.user.id,
        person: person.user,
        confirm,
        error,
    })
}

async fn load(state: &AppState, id: i64) -> Result<Person, Error> {
    Ok(state.db.run(move |c| people::person(c, UserId(id))).await?)
}

pub(super) async fn show(
    state: web::Data<AppState>,
    Staff(me): Staff,
    id: web::Path<PathId>,
) -> Result<HttpResponse, Error> {
    let person = load(&state, id.into_inner().0).await?;
    html(&page(&me, person, None, None)?)
}

/// The confirmation step: the page again, saying what the change will do.
pub(super) async fn confirm(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, String)>,
    query: web::Query<ChangeForm>,
) -> Result<HttpResponse, Error> {
    let (PathId(id), action) = path.into_inner();
    let change = Change::parse(&action, &query)?;
    html(&page(&me, load(&state, id).await?, Some(change), None)?)
}

/// Makes the change; refused (the last admin, an invited or disabled account), the page
/// again with why, at the refusal's status.
pub(super) async fn apply(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, String)>,
    form: web::Form<ChangeForm>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (PathId(id), action) = path.into_inner();
    let change = Change::parse(&action, &form)?;
    let admin = me.actor();
    match state
        .db
        .write(move |c| change.apply(c, &admin, UserId(id)))
        .await
    {
        Ok(person) => {
            Flash::success(change.done(&person)).set(&me.session)?;
            Ok(redirect_after_post(&req, &fill(urls::PERSON, &[id])))
        }
        Err(crate::domain::Error::Conflict(message)) => {
            let page = page(&me, load(&state, id).await?, None, Some(message))?;
            html_status(actix_web::http::StatusCode::CONFLICT, &page)
        }
        Err(e) => Err(e.into()),
    }
}
