//! A webhook's status page: state, success rate, a chart of the last 24 hours and 7 days, and
//! its deliveries with every attempt. The owner reaches it from API Access; admins and support
//! from API Management. The owner and admins may redeliver; support only reads.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::pages::{Flash, Layout, html, redirect_after_post};
use super::session::{Admin, SignedIn, Staff};
use super::views::{WebhookRow, When};
use crate::AppState;
use crate::db::now;
use crate::domain::audit::Actor;
use crate::domain::webhooks::{self, Report};
use crate::http::client_address::client_ip;
use crate::http::error::Error;
use crate::http::path_id::PathId;
use crate::models::UserId;
use crate::models::delivery::DeliveryState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings/api-access/webhooks/{id}").get(owner_page))
        .service(
            web::resource("/settings/api-access/webhooks/{id}/deliveries/{delivery}/redeliver")
                .post(owner_redeliver),
        )
        .service(web::resource("/admin/api-management/users/{user}/webhooks/{id}").get(staff_page))
        .service(
            web::resource(
                "/admin/api-management/users/{user}/webhooks/{id}/deliveries/{delivery}/redeliver",
            )
            .post(admin_redeliver),
        );
}

#[derive(Deserialize)]
struct ReportQuery {
    outcome: Option<String>,
    before: Option<i64>,
}

impl ReportQuery {
    fn state(&self) -> Result<Option<DeliveryState>, Error> {
        match self.outcome.as_deref() {
            None | Some("") | Some("all") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                Error::bad_request("outcome: use all, delivered, failed, pending or cancelled.")
            }),
        }
    }
}

pub struct AttemptRow {
    pub when: When,
    pub status: String,
    pub duration_ms: i64,
    pub error: String,
    pub body: String,
    pub succeeded: bool,
}

pub struct DeliveryRow {
    pub id: i64,
    pub event_type: String,
    pub message_id: String,
    pub state: &'static str,
    pub created: When,
    pub next_attempt: Option<When>,
    pub attempts: Vec<AttemptRow>,
    pub redeliver_url: Option<String>,
}

#[derive(Template)]
#[template(path = "webhooks/status.html")]
struct StatusPage {
    layout: Layout,
    back_url: String,
    back_label: &'static str,
    page_url: String,
    row: WebhookRow,
    success_rate: String,
    last_delivery: Option<When>,
    chart_day: String,
    chart_week: String,
    outcome: String,
    deliveries: Vec<DeliveryRow>,
    older_url: Option<String>,
}

async fn owner_page(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<PathId>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner().0;
    let page_url = format!("/settings/api-access/webhooks/{id}");
    let report = load(&state, me.user.id, id, &query).await?;
    html(&status_page(
        &me,
        report,
        &query,
        page_url,
        ("/settings/api-access", "API Access"),
        true,
    )?)
}

async fn staff_page(
    state: web::Data<AppState>,
    Staff(me): Staff,
    path: web::Path<(PathId, PathId)>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let (PathId(user), PathId(id)) = path.into_inner();
    let back = format!("/admin/api-management/users/{user}");
    let page_url = format!("{back}/webhooks/{id}");
    let report = load(&state, UserId(user), id, &query).await?;
    let can_redeliver = me.user.role == crate::models::Role::Admin;
    let mut page = status_page(
        &me,
        report,
        &query,
        page_url,
        ("", "API Management"),
        can_redeliver,
    )?;
    page.back_url = back;
    html(&page)
}

async fn owner_redeliver(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<(PathId, PathId)>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (PathId(id), PathId(delivery)) = path.into_inner();
    redeliver(&state, &me, &req, me.user.id, id, delivery).await?;
    Ok(redirect_after_post(
        &req,
        &format!("/settings/api-access/webhooks/{id}"),
    ))
}

async fn admin_redeliver(
    state: web::Data<AppState>,
    Admin(me): Admin,
    path: web::Path<(PathId, PathId, PathId)>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (PathId(user), PathId(id), PathId(delivery)) = path.into_inner();
    redeliver(&state, &me, &req, UserId(user), id, delivery).await?;
    Ok(redirect_after_post(
        &req,
        &format!("/admin/api-management/users/{user}/webhooks/{id}"),
    ))
}

async fn redeliver(
    state: &AppState,
    me: &SignedIn,
    req: &HttpRequest,
    owner: UserId,
    id: i64,
    delivery: i64,
) -> Result<(), Error> {
    let actor = Actor {
        id: me.user.id,
        ip: client_ip(req),
    };
    state
        .db
        .write(move |c| webhooks::redeliver(c, &actor, owner, id, delivery))
        .await?;
    Flash::success("Delivery queued again. It is sent with the same webhook-id, so receivers can tell it is a repeat.").set(&me.session)
}

async fn load(
    state: &AppState,
    owner: UserId,
    id: i64,
    query: &ReportQuery,
) -> Result<Report, Error> {
    let (filter, before) = (query.state()?, query.before);
    Ok(state
        .db
        .run(move |c| webhooks::report(c, owner, id, filter, before))
        .await?)
}

fn status_page(
    me: &SignedIn,
    report: Report,
    query: &ReportQuery,
    page_url: String,
    (back_url, back_label): (&str, &'static str),
    can_redeliver: bool,
) -> Result<StatusPage, Error> {
    let at = now();
    let attempts = report.outcomes.len();
    let succeeded = report.outcomes.iter().filter(|(_, ok)| *ok).count();
    let success_rate = if attempts == 0 {
        "No attempts in the last 7 days".to_owned()
    } else {
        format!(
            "{:.1} % of {} attempts in the last 7 days",
            100.0 * succeeded as f64 / attempts as f64,
            attempts
        )
    };
    let last_delivery = report
        .outcomes
        .iter()
        .find(|(_, ok)| *ok)
        .map(|(t, _)| When::from(t));
    let outcome = query.outcome.clone().unwrap_or_else(|| "all".into());
    let deliveries = report
        .deliveries
        .into_iter()
        .map(|(delivery, event_type, attempts)| DeliveryRow {
            redeliver_url: (can_redeliver && delivery.state != DeliveryState::Pending)
                .then(|| format!("{page_url}/deliveries/{}/redeliver", delivery.id)),
            id: delivery.id,
            event_type,
            message_id: delivery.message_id,
            state: delivery.state.as_str(),
            created: When::from(&delivery.created_at),
            next_attempt: (delivery.state == DeliveryState::Pending)
                .then(|| delivery.next_attempt_at.as_ref().map(When::from))
                .flatten(),
            attempts: attempts
                .into_iter()
                .map(|a| AttemptRow {
                    when: When::from(&a.attempted_at),
                    status: a
                        .response_status
                        .map_or_else(|| "—".into(), |s| s.to_string()),
                    duration_ms: a.duration_ms,
                    error: a.error.unwrap_or_default(),
                    body: a.response_body.unwrap_or_default(),
                    succeeded: a.succeeded,
                })
                .collect(),
        })
        .collect();
    let older_url = report
        .next_before
        .map(|before| format!("{page_url}?outcome={outcome}&before={before}"));
    Ok(StatusPage {
        layout: Layout::for_user(me)?,
        back_url: back_url.to_owned(),
        back_label,
        row: WebhookRow::new(&report.webhook, report.access_on),
        success_rate,
        last_delivery,
        chart_day: chart(&report.outcomes, at, 24, Duration::hours(1), "hour"),
        chart_week: chart(&report.outcomes, at, 7, Duration::days(1), "day"),
        outcome,
        deliveries,
        older_url,
        page_url,
    })
}

/// A bar chart, drawn on the server as SVG: per bucket, delivered attempts above the line in
/// green and failed ones below it in red; each bar says its counts on hover and to screen
/// readers.
pub fn chart(
    outcomes: &[(NaiveDateTime, bool)],
    at: NaiveDateTime,
    buckets: usize,
    width: Duration,
    unit: &str,
) -> String {
    let mut counts = vec![(0usize, 0usize); buckets];
    for (when, ok) in outcomes {
        let age = at - *when;
        if age < Duration::zero() {
            continue;
        }
        let index = (age.num_seconds() / width.num_seconds().max(1)) as usize;
        if index < buckets {
            let slot = &mut counts[buckets - 1 - index];
            if *ok { slot.0 += 1 } else { slot.1 += 1 }
        }
    }
    let peak = counts
        .iter()
        .map(|(d, f)| (*d).max(*f))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (bar, gap, half) = (14.0, 4.0, 40.0);
    let total_width = buckets as f64 * (bar + gap);
    let (delivered, failed) = counts.iter().fold((0, 0), |(d, f), (a, b)| (d + a, f + b));
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {total_width} {h}" width="{total_width}" height="{h}" role="img" aria-label="{delivered} delivered and {failed} failed attempts, by {unit}">"#,
        h = half * 2.0 + 2.0
    );
    svg.push_str(&format!(
        r#"<line x1="0" y1="{half}" x2="{total_width}" y2="{half}" class="axis"/>"#
    ));
    for (i, (ok, failed)) in counts.iter().enumerate() {
        let x = i as f64 * (bar + gap);
        let ago = buckets - 1 - i;
        let label = format!(
            "{ago} {unit}{} ago: {ok} delivered, {failed} failed",
            if ago == 1 { "" } else { "s" }
        );
        let up = (*ok as f64 / peak) * (half - 2.0);
        let down = (*failed as f64 / peak) * (half - 2.0);
        svg.push_str(&format!(
            r#"<g><title>{label}</title><rect x="{x}" y="{y}" width="{bar}" height="{up}" class="ok"/><rect x="{x}" y="{half}" width="{bar}" height="{down}" class="failed"/></g>"#,
            y = half - up
        ));
    }
    svg.push_str("</svg>");
    svg
}
