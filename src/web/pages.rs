//! What every page shares: the layout (who is signed in, the CSRF token, a flash message),
//! rendering full pages or htmx partials, and how times read.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::csrf;
use super::session::SignedIn;
use crate::http::error::Error;
use crate::models::{Role, User};

const FLASH: &str = "flash";

/// A message shown once on the next page, after a form post and redirect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FlashKind {
    Success,
}

impl Flash {
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            message: message.into(),
        }
    }
    pub fn css_class(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash flash-success",
        }
    }
    pub fn set(self, session: &Session) -> Result<(), Error> {
        session.insert(FLASH, self)?;
        Ok(())
    }
    fn take(session: &Session) -> Option<Flash> {
        // Only when there is one: `remove` marks the session changed even when the key is
        // absent, and a changed session is written back, so every page view would be a write.
        if !session.contains_key(FLASH) {
            return None;
        }
        session.remove_as::<Flash>(FLASH).and_then(Result::ok)
    }
}

/// The header and chrome of every page.
pub struct Layout {
    pub user: Option<User>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

impl Layout {
    pub fn for_user(signed_in: &SignedIn) -> Result<Self, Error> {
        Ok(Self {
            user: Some(signed_in.user.clone()),
            csrf_token: csrf::token(&signed_in.session)?,
            flash: Flash::take(&signed_in.session),
        })
    }

    /// For someone not signed in: nothing is written to the session for them.
    pub fn anonymous(req: &HttpRequest, session: &Session) -> Result<Self, Error> {
        Ok(Self {
            user: None,
            csrf_token: csrf::anonymous_token(req, session)?,
            flash: Flash::take(session),
        })
    }

    /// For error pages, which are rendered without the request: the header shows no account
    /// links, since it cannot know who is signed in.
    pub fn bare() -> Self {
        Self {
            user: None,
            csrf_token: String::new(),
            flash: None,
        }
    }

    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_staff())
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }
}

/// A rendered page with status 200.
pub fn html(template: &impl Template) -> Result<HttpResponse, Error> {
    html_status(StatusCode::OK, template)
}

/// A rendered page with another status, such as a form shown again with its error.
pub fn html_status(status: StatusCode, template: &impl Template) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(template.render()?))
}

/// Post/redirect/get: after a form post, the browser loads the page again.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// After a form post, the page to load next. htmx cannot be given a 303 (its request would
/// follow it and swap a whole page into a section), so it is told where to go instead.
pub fn redirect_after_post(req: &HttpRequest, location: &str) -> HttpResponse {
    if is_htmx(req) {
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", location))
            .finish()
    } else {
        redirect(location)
    }
}

/// htmx asks for the section it will swap, not the whole page.
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().get("HX-Request").is_some_and(|v| v == "true")
}

/// The address the request came from: the socket's peer.
/// "3 minutes ago": how lists show times; `exact` goes in the hover title.
pub fn ago(t: &NaiveDateTime) -> String {
    let secs = (chrono::Utc::now().naive_utc() - *t).num_seconds();
    let (n, unit) = match secs {
        s if s < 45 => return "just now".into(),
        s if s < 90 * 60 => ((s + 30) / 60, "minute"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "hour"),
        s if s < 45 * 86400 => ((s + 43200) / 86400, "day"),
        _ => return t.format("%-d %b %Y").to_string(),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

pub fn exact(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
