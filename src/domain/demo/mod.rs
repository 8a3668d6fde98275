//! Demo data for `keyport serve --demo`, made only on a database with no users: the four
//! accounts it prints, and a lived-in team around them — about 25 people over the last ten
//! weeks, with several keys, access turned off or cleared, a disabled account, an invitation,
//! an old key still in use, usage every day, webhooks with their delivery history (healthy,
//! failing for a day, turned off by keyport) and the audit trail of all of it. Everything is
//! made through the product's own functions, then moved back to when it happened.

use chrono::{Duration, NaiveDateTime};

mod deliveries;
mod team;

use self::deliveries::{History, deliveries, webhook};
use super::api_keys::{self, KeyRequest};
use super::audit::Actor;
use super::scopes::Access;
use super::{Result, api_access};
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::accounts::{NewAccount, create_user};
use crate::models::demo_history as history;
use crate::models::key_usage::{DayCounts, add_day};
use crate::models::{ApiKeyRow, Entity, OperationType, Role, User, WebhookStatus};

pub const DEMO_PASSWORD: &str = "keyport-demo-password";

/// The accounts `serve --demo` prints, with the demo password.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role)] = &[
    ("admin@example.com", "Ada Admin", Role::Admin),
    ("support@example.com", "Sam Support", Role::Support),
    ("user@example.com", "Uma User", Role::User),
    ("grace@example.com", "Grace Hopper", Role::User),
];

/// What was created, for the command line to print.
pub struct Demo {
    pub accounts: Vec<User>,
    /// The API key of the user with API Access on.
    pub api_key: String,
}

/// Times relative to now, and small numbers that vary but are the same on every run.
pub(super) struct Clock {
    pub(super) now: NaiveDateTime,
    seed: u64,
}

impl Clock {
    pub(super) fn ago(&self, days: i64, hours: i64) -> NaiveDateTime {
        self.now - Duration::days(days) - Duration::hours(hours)
    }

    /// A number in `0..below`.
    pub(super) fn vary(&mut self, below: u64) -> u64 {
        // (An LCG: demo data only needs variety, not unpredictability.)
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.seed >> 33) % below.max(1)
    }
}

/// Runs one step of the story and moves the audit events it wrote to `at`.
pub(super) fn happened<T>(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    step: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<T> {
    let before = history::last_audit_event(conn)?;
    let done = step(conn)?;
    history::move_audit_events(conn, before, at)?;
    Ok(done)
}

pub(super) fn actor(user: &User) -> Actor {
    Actor {
        id: user.id,
        ip: Some("203.0.113.10".into()),
    }
}

/// Creates the demo data when the database has no users; returns None otherwise.
pub fn seed(conn: &mut DbConnection) -> Result<Option<Demo>> {
    write_transaction(conn, |conn| {
        if User::any_exist(conn)? {
            return Ok(None);
        }
        let mut clock = Clock {
            now: now(),
            seed: 20_261_129,
        };
        let mut accounts = Vec::new();
        for (n, &(email, name, role)) in DEMO_ACCOUNTS.iter().enumerate() {
            let user = create_user(
                conn,
                &NewAccount {
                    email,
                    name,
                    role,
                    password: DEMO_PASSWORD,
                },
            )?;
            history::move_user(conn, user.id, clock.ago(70 - n as i64, 0), None)?;
            accounts.push(user);
        }
        let (ada, uma, grace) = (accounts[0].clone(), &accounts[2], &accounts[3]);
        let api_key = uma_and_grace(conn, &mut clock, uma, grace)?;
        for &(email, name, role, story, joined) in team::TEAM {
            team::member(conn, &mut clock, &ada, (email, name, role), story, joined)?;
        }
        // The mails all this would have sent went out long ago.
        history::forget_mails(conn)?;
        Ok(Some(Demo { accounts, api_key }))
    })
}

/// Uma: the printed key, a read-only key, healthy webhooks and one she turned off. Grace: a
/// webhook failing for a day.
fn uma_and_grace(
    conn: &mut DbConnection,
    clock: &mut Clock,
    uma: &User,
    grace: &User,
) -> Result<String> {
    let issued = happened(conn, clock.ago(60, 3), |c| {
        api_access::enable(c, &actor(uma))
    })?;
    history::move_api_access(conn, uma.id, clock.ago(60, 3))?;
    let export = happened(conn, clock.ago(45, 6), |c| {
        api_keys::create(
            c,
            &actor(uma),
            &KeyRequest {
                name: "Nightly export".into(),
                access: Access::Read,
                expires_in_days: None,
            },
        )
    })?;
    used_daily(conn, clock, &issued.row, 60)?;
    used_daily(conn, clock, &export.row, 45)?;
    let hooks = [
        (
            "https://hooks.example.com/contacts",
            Entity::Contact,
            OperationType::Create,
            WebhookStatus::On,
        ),
        (
            "https://hooks.example.com/contacts",
            Entity::Contact,
            OperationType::Update,
            WebhookStatus::On,
        ),
        (
            "https://crm.example.org/keyport/jobs",
            Entity::Job,
            OperationType::Delete,
            WebhookStatus::Off,
        ),
    ];
    for (n, (url, entity, operation, status)) in hooks.into_iter().enumerate() {
        let hook = webhook(
            conn,
            clock,
            uma,
            url,
            entity,
            operation,
            status,
            58 - n as i64,
        )?;
        if status == WebhookStatus::On {
            deliveries(conn, clock, &hook, 14, 40 - 20 * n as u64, History::Healthy)?;
        }
    }

    happened(conn, clock.ago(50, 0), |c| {
        api_access::enable(c, &actor(grace))
    })?;
    history::move_api_access(conn, grace.id, clock.ago(50, 0))?;
    let hook = webhook(
        conn,
        clock,
        grace,
        "https://grace.example.net/keyport/jobs",
        Entity::Job,
        OperationType::Update,
        WebhookStatus::On,
        48,
    )?;
    deliveries(conn, clock, &hook, 10, 30, History::FailingForADay)?;
    history::move_user(conn, uma.id, clock.ago(70, 0), Some(clock.ago(0, 2)))?;
    history::move_user(conn, grace.id, clock.ago(67, 0), Some(clock.ago(1, 5)))?;
    Ok(issued.key.expose().to_owned())
}

/// The key's requests on each of the last `days` days (at most 30), and its last use.
pub(super) fn used_daily(
    conn: &mut DbConnection,
    clock: &mut Clock,
    key: &ApiKeyRow,
    days: i64,
) -> Result<()> {
    let base = 40 + clock.vary(400) as i64;
    for day in 0..days.min(30) {
        let date = (clock.now - Duration::days(day)).date();
        let weekend = matches!(
            chrono::Datelike::weekday(&date),
            chrono::Weekday::Sat | chrono::Weekday::Sun
        );
        let busy = if weekend { base / 4 } else { base };
        let counts = DayCounts {
            succeeded: busy + clock.vary(busy as u64 / 2 + 1) as i64,
            refused: clock.vary(4).saturating_sub(2) as i64,
            client_errors: clock.vary(6) as i64,
            throttled: 0,
        };
        add_day(conn, key.id, date, &counts)?;
    }
    let created = clock.ago(days, 0);
    let hours = 1 + clock.vary(20) as i64;
    let last = clock.ago(0, hours);
    history::move_key(conn, key.id, created, Some((last, "198.51.100.23")))?;
    Ok(())
}
