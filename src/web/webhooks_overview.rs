//! Advanced Settings → Webhooks (`/admin/webhooks`): every webhook of every person, the most
//! troubled first, filtered by health and searched by host or owner; for admins and support
//! staff, who read it (each row leads to the webhook's deliveries).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::api_management::urls as api_management;
use super::pages::{Layout, html};
use super::route::fill;
use super::session::Staff;
use super::views::{HealthView, When};
use crate::AppState;
use crate::domain::webhook_overview::{self, Overview, Shown};
use crate::http::error::Error;

pub const WEBHOOKS: &str = "/admin/webhooks";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(WEBHOOKS).get(list));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    q: Option<String>,
    after: Option<i64>,
}

struct OverviewRow {
    url: String,
    /// The webhook's deliveries page.
    deliveries_url: String,
    owner: String,
    owner_email: String,
    owner_url: String,
    sends: String,
    switch: &'static str,
    health: HealthView,
    /// "97.5 % of 40" or "No attempts".
    last_day: String,
    last_error: String,
    waiting: i64,
    oldest_waiting: Option<When>,
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct OverviewPage {
    layout: Layout,
    q: String,
    state: &'static str,
    failing: i64,
    waiting: i64,
    oldest_waiting: Option<When>,
    rows: Vec<OverviewRow>,
    next_url: Option<String>,
}

impl OverviewPage {
    /// The filter links, each keeping the search.
    fn filters(&self) -> Vec<(&'static str, String, bool)> {
        ["all", "failing", "off", "paused", "healthy"]
            .into_iter()
            .map(|state| {
                let query = serde_urlencoded::to_string([("state", state), ("q", &self.q)])
                    .unwrap_or_default();
                (state, format!("{WEBHOOKS}?{query}"), state == self.state)
            })
            .collect()
    }
}

async fn list(
    state: web::Data<AppState>,
    Staff(me): Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let ListQuery {
        state: shown,
        q,
        after,
    } = query.into_inner();
    let shown = Shown::parse(shown.as_deref()).map_err(|e| Error::bad_request(e.to_string()))?;
    let search = q.clone();
    let overview = state
        .db
        .run(move |c| webhook_overview::overview(c, shown, search.as_deref(), after))
        .await?;
    html(&page(
        Layout::for_user(&me)?,
        shown,
        q.unwrap_or_default(),
        overview,
    ))
}

fn page(layout: Layout, shown: Shown, q: String, overview: Overview) -> OverviewPage {
    let next_url = overview.next_after.map(|after| {
        let query = serde_urlencoded::to_string([
            ("state", shown.as_str()),
            ("q", q.as_str()),
            ("after", &after.to_string()),
        ])
        .unwrap_or_default();
        format!("{WEBHOOKS}?{query}")
    });
    let rows = overview
        .rows
        .into_iter()
        .map(|row| {
            let hook = &row.listed.webhook;
            let attempts = row.delivered + row.failed;
            OverviewRow {
                url: hook.url.clone(),
                deliveries_url: fill(api_management::WEBHOOK, &[row.listed.owner.0, hook.id.0]),
                owner: row.listed.owner_name.clone(),
                owner_email: row.listed.owner_email.clone(),
                owner_url: fill(api_management::USER, &[row.listed.owner.0]),
                sends: format!("{} · {}", hook.entity, hook.operation_type),
                switch: hook.status.as_str(),
                health: HealthView::of(hook),
                last_day: if attempts == 0 {
                    "No attempts".to_owned()
                } else {
                    format!(
                        "{:.1} % of {attempts}",
                        100.0 * row.delivered as f64 / attempts as f64
                    )
                },
                last_error: hook.last_error.clone().unwrap_or_default(),
                waiting: row.waiting,
                oldest_waiting: row.oldest_waiting.as_ref().map(When::from),
            }
        })
        .collect();
    OverviewPage {
        layout,
        q,
        state: shown.as_str(),
        failing: overview.summary.failing,
        waiting: overview.summary.waiting,
        oldest_waiting: overview.summary.oldest_waiting.as_ref().map(When::from),
        rows,
        next_url,
    }
}
