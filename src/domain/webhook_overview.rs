//! Advanced Settings → Webhooks: every webhook of every person, the most troubled first, with
//! what support staff need to answer "which webhooks fail, and why?" — health, the last 24
//! hours' attempts, the last error, and the deliveries waiting. Every figure comes from an
//! index or from counters kept as deliveries settle, never from reading the delivery log.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::api_management::normalize_search;
use super::{Error, Result};
use crate::db::{DbConnection, now};
use crate::models::delivery::Delivery;
use crate::models::webhook::{Health, Listed};
use crate::models::{Webhook, WebhookId};

pub const PAGE_SIZE: i64 = 50;

/// Which webhooks the overview shows (`?state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    All,
    Failing,
    /// Turned off, by keyport or by a person.
    Off,
    Paused,
    Healthy,
}

impl Shown {
    pub fn parse(text: Option<&str>) -> Result<Self> {
        Ok(match text.unwrap_or_default() {
            "" | "all" => Shown::All,
            "failing" => Shown::Failing,
            "off" => Shown::Off,
            "paused" => Shown::Paused,
            "healthy" => Shown::Healthy,
            _ => {
                return Err(Error::Invalid(
                    "state: use all, failing, off, paused or healthy.".into(),
                ));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Shown::All => "all",
            Shown::Failing => "failing",
            Shown::Off => "off",
            Shown::Paused => "paused",
            Shown::Healthy => "healthy",
        }
    }

    fn troubles(self) -> Vec<i16> {
        let health: &[Health] = match self {
            Shown::All => &[],
            Shown::Failing => &[Health::Failing],
            Shown::Off => &[Health::TurnedOff, Health::Off],
            Shown::Paused => &[Health::Paused],
            Shown::Healthy => &[Health::Healthy],
        };
        health.iter().map(|h| *h as i16).collect()
    }
}

/// One webhook as the overview lists it.
pub struct Row {
    pub listed: Listed,
    /// Attempts delivered and failed in the last 24 hours.
    pub delivered: i64,
    pub failed: i64,
    /// Deliveries waiting, and since when the oldest.
    pub waiting: i64,
    pub oldest_waiting: Option<NaiveDateTime>,
}

/// What the top of the page says.
pub struct Summary {
    pub failing: i64,
    pub waiting: i64,
    pub oldest_waiting: Option<NaiveDateTime>,
}

pub struct Overview {
    pub summary: Summary,
    pub rows: Vec<Row>,
    /// The cursor for the next page (the last webhook's id), when there is one.
    pub next_after: Option<i64>,
}

pub fn overview(
    conn: &mut DbConnection,
    shown: Shown,
    search: Option<&str>,
    after: Option<i64>,
) -> Result<Overview> {
    let search = normalize_search(search)?;
    // (When the webhook the last page ended with is gone, the list starts again.)
    let after = match after.map(WebhookId) {
        Some(id) => Webhook::trouble_of(conn, id)?.map(|trouble| (trouble, id)),
        None => None,
    };
    let mut listed = Webhook::overview(
        conn,
        &shown.troubles(),
        search.as_deref(),
        after,
        PAGE_SIZE + 1,
    )?;
    let next_after = if listed.len() as i64 > PAGE_SIZE {
        listed.truncate(PAGE_SIZE as usize);
        listed.last().map(|l| l.webhook.id.0)
    } else {
        None
    };
    let ids: Vec<WebhookId> = listed.iter().map(|l| l.webhook.id).collect();
    let since = now() - chrono::Duration::hours(24);
    let attempts = Webhook::attempts_since(conn, &ids, since)?;
    let mut waiting: HashMap<_, _> = Delivery::waiting_for(conn, &ids)?;
    let rows = listed
        .into_iter()
        .map(|listed| {
            let (delivered, failed) = attempts
                .get(&listed.webhook.id)
                .copied()
                .unwrap_or_default();
            let (count, oldest) = waiting.remove(&listed.webhook.id).unwrap_or_default();
            Row {
                listed,
                delivered,
                failed,
                waiting: count,
                oldest_waiting: oldest,
            }
        })
        .collect();
    let (waiting, oldest_waiting) = Delivery::waiting(conn)?;
    Ok(Overview {
        summary: Summary {
            failing: Webhook::count_in(conn, Health::Failing as i16)?,
            waiting,
            oldest_waiting,
        },
        rows,
        next_after,
    })
}

/// Drops the hourly attempt counts older than two days (the overview reads the last 24 hours).
pub fn forget_old_hours(conn: &mut DbConnection) -> Result<usize> {
    Ok(Webhook::forget_hours_before(
        conn,
        now() - chrono::Duration::hours(48),
    )?)
}
