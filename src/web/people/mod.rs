//! Advanced Settings → People (`/admin/people`): everyone with an account — not only those with
//! API Access — with their role, state, API Access, keys and last sign-in; searched by the
//! start of a name or email and paged like API Management (its search terms and cursor).
//! Admins and support staff read it; admins invite people (`invitations`) and change a
//! person's role and account (`person`).

mod invitations;
mod person;
pub mod urls;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Layout, html, is_htmx};
use super::route::fill;
use super::session::Staff;
use super::views::When;
use crate::AppState;
use crate::domain::api_management::{self as listing, KeyPage, Listed};
use crate::http::error::Error;
use crate::models::AccountState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The fixed addresses first: `/admin/people/invitations` is not a person.
    cfg.service(web::resource(urls::LIST).get(list))
        .service(
            web::resource(urls::INVITATIONS)
                .get(invitations::show)
                .post(invitations::invite),
        )
        .service(web::resource(urls::RESEND).post(invitations::resend))
        .service(
            web::resource(urls::REVOKE)
                .get(invitations::confirm_revoke)
                .post(invitations::revoke),
        )
        .service(web::resource(urls::PERSON).get(person::show))
        .service(
            web::resource(urls::CHANGE)
                .get(person::confirm)
                .post(person::apply),
        );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    after: Option<i64>,
}

struct PersonRow {
    /// The person's page.
    url: String,
    name: String,
    email: String,
    role: &'static str,
    /// `Active`, `Invited` or `Disabled`.
    state: &'static str,
    api_access: bool,
    keys: usize,
    last_sign_in: Option<When>,
}

/// The table, swapped by htmx as the search is typed.
#[derive(Template)]
#[template(path = "admin/people_partial.html")]
struct PeopleSection {
    q: String,
    rows: Vec<PersonRow>,
    next_url: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/people.html")]
struct PeoplePage {
    layout: Layout,
    section: PeopleSection,
}

async fn list(
    state: web::Data<AppState>,
    Staff(me): Staff,
    query: web::Query<ListQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let ListQuery { q, after } = query.into_inner();
    let search = listing::normalize_search(q.as_deref())?;
    let page = state
        .db
        .run(move |c| listing::list(c, search.as_deref(), after, Listed::Everyone))
        .await?;
    let section = section(q.unwrap_or_default(), page);
    if is_htmx(&req) {
        return html(&section);
    }
    html(&PeoplePage {
        layout: Layout::for_user(&me)?,
        section,
    })
}

fn section(q: String, page: KeyPage) -> PeopleSection {
    let next_url = page.next_after.map(|after| {
        let query = serde_urlencoded::to_string([("q", q.as_str()), ("after", &after.to_string())])
            .unwrap_or_default();
        format!("{}?{query}", urls::LIST)
    });
    let rows = page
        .rows
        .iter()
        .map(|row| PersonRow {
            url: fill(urls::PERSON, &[row.user.id.0]),
            name: row.user.name.clone(),
            email: row.user.email.clone(),
            role: row.user.role.label(),
            state: AccountState::of(row.user.invited_at, row.user.disabled_at).label(),
            api_access: row.user.api_access_at.is_some(),
            keys: row.prefixes.len(),
            last_sign_in: row.user.last_sign_in_at.as_ref().map(When::from),
        })
        .collect();
    PeopleSection { q, rows, next_url }
}
