//! Advanced Settings → Key Policy: how long keys may live, whether they must expire, how many a
//! person may have, keys in links, and who may turn API Access on. Admins change it; support
//! staff read it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::domain::key_policy::{self, KeyPolicy, LONGEST_DAYS, PolicyChange};
use crate::http::error::Error;
use crate::models::WhoMayEnable;
use crate::models::access_listing::UserSummary;
use crate::models::api_key::ApiKeyRow;
use crate::web::pages::{Flash, Layout, html_status, redirect};
use crate::web::route::fill;
use crate::web::session::{Admin, SignedIn, Staff};
use crate::web::views::{When, checkbox};

/// How many keys beyond a new maximum the page lists.
const BEYOND_ROWS: i64 = 100;

#[derive(Template)]
#[template(path = "admin/policy.html")]
struct PolicyPage {
    layout: Layout,
    form: PolicyForm,
    /// Keys in links as in force (the environment's setting until a policy is saved).
    saved: Option<When>,
    error: Option<String>,
    beyond: Vec<BeyondRow>,
    longest_days: i64,
}

struct BeyondRow {
    owner: String,
    owner_url: String,
    name: String,
    prefix: String,
    expires: Option<When>,
}

/// The form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyForm {
    #[serde(default)]
    max_lifetime_days: String,
    require_expiry: Option<String>,
    #[serde(default)]
    max_keys_per_user: String,
    allow_query_keys: Option<String>,
    #[serde(default)]
    who_may_enable: String,
}

impl PolicyForm {
    fn of(policy: &KeyPolicy, query_keys: bool) -> Self {
        let on = |b: bool| b.then(|| "on".to_owned());
        PolicyForm {
            max_lifetime_days: policy
                .max_lifetime_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            require_expiry: on(policy.require_expiry),
            max_keys_per_user: policy.max_keys_per_user.to_string(),
            allow_query_keys: on(policy.query_keys_allowed(query_keys)),
            who_may_enable: policy.who_may_enable.as_str().to_owned(),
        }
    }

    fn change(&self) -> Result<PolicyChange, Error> {
        let days = self.max_lifetime_days.trim();
        let max_lifetime_days = if days.is_empty() {
            None
        } else {
            Some(days.parse::<i32>().map_err(|_| {
                Error::unprocessable(format!(
                    "max_lifetime_days: enter 1 to {LONGEST_DAYS} days, or leave it empty for none"
                ))
            })?)
        };
        let max_keys_per_user =
            self.max_keys_per_user.trim().parse::<i32>().map_err(|_| {
                Error::unprocessable("max_keys_per_user: enter a number from 1 to 100")
            })?;
        let who_may_enable = self
            .who_may_enable
            .parse::<WhoMayEnable>()
            .map_err(|_| Error::unprocessable("who_may_enable: choose everyone or allowed"))?;
        Ok(PolicyChange {
            max_lifetime_days,
            require_expiry: checkbox(&self.require_expiry)?,
            max_keys_per_user,
            allow_query_keys: checkbox(&self.allow_query_keys)?,
            who_may_enable,
        })
    }

    fn requires_expiry(&self) -> bool {
        self.require_expiry.is_some()
    }

    fn allows_query_keys(&self) -> bool {
        self.allow_query_keys.is_some()
    }
}

async fn page(
    state: &AppState,
    me: &SignedIn,
    form: Option<PolicyForm>,
    error: Option<String>,
) -> Result<PolicyPage, Error> {
    let (policy, beyond) = state
        .db
        .run(|c| {
            let policy = key_policy::current(c)?;
            let beyond = key_policy::keys_beyond(c, &policy, BEYOND_ROWS)?;
            Ok::<_, crate::domain::Error>((policy, beyond))
        })
        .await?;
    Ok(PolicyPage {
        layout: Layout::for_user(me)?,
        form: form.unwrap_or_else(|| PolicyForm::of(&policy, state.settings.allow_query_keys)),
        saved: policy.saved.as_ref().map(|(at, _)| When::from(at)),
        error,
        beyond: beyond.iter().map(beyond_row).collect(),
        longest_days: LONGEST_DAYS,
    })
}

fn beyond_row((key, owner): &(ApiKeyRow, UserSummary)) -> BeyondRow {
    BeyondRow {
        owner: owner.name.clone(),
        owner_url: fill(urls::USER, &[owner.id.0]),
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        expires: key.expires_at.as_ref().map(When::from),
    }
}

pub(super) async fn show(
    state: web::Data<AppState>,
    Staff(me): Staff,
) -> Result<HttpResponse, Error> {
    html_status(StatusCode::OK, &page(&state, &me, None, None).await?)
}

pub(super) async fn save(
    state: web::Data<AppState>,
    Admin(me): Admin,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, Error> {
    let form = form.into_inner();
    let admin = me.actor();
    let saved = match form.change() {
        Ok(change) => state
            .db
            .write(move |c| key_policy::save(c, &admin, &change))
            .await
            .map_err(Error::from),
        Err(refused) => Err(refused),
    };
    match saved {
        Ok(()) => {
            Flash::success("Key policy saved. It applies to keys created from now on.")
                .set(&me.session)?;
            Ok(redirect(urls::POLICY))
        }
        Err(refused) if refused.status.is_client_error() => {
            let page = page(&state, &me, Some(form), Some(refused.message.clone())).await?;
            html_status(refused.status, &page)
        }
        Err(other) => Err(other),
    }
}
