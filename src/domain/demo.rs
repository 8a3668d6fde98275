//! Demo data for `keyport serve --demo`, made only on a database with no users: the four
//! accounts it prints, and a lived-in team around them — about 25 people over the last ten
//! weeks, with several keys, access turned off or cleared, a disabled account, an invitation,
//! an old key still in use, usage every day, webhooks with their delivery history (healthy,
//! failing for a day, turned off by keyport) and the audit trail of all of it. Everything is
//! made through the product's own functions, then moved back to when it happened.

use chrono::{Duration, NaiveDateTime};

use super::api_keys::{self, Grace, KeyRequest};
use super::audit::{Actor, By};
use super::people::{self, Invitation};
use super::scopes::{Access, Level};
use super::{Result, api_access};
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::accounts::{NewAccount, create_user};
use crate::domain::outbox::event_type;
use crate::models::delivery::{DeliveryState, NewWebhookEvent};
use crate::models::demo_history::{self as history, PastDelivery};
use crate::models::key_usage::{DayCounts, SentAs, StaleUse, add_day};
use crate::models::{ApiKeyRow, Entity, NewWebhook, OperationType, Role, User, WebhookStatus};

pub const DEMO_PASSWORD: &str = "keyport-demo-password";

/// The accounts `serve --demo` prints, with the demo password.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role)] = &[
    ("admin@example.com", "Ada Admin", Role::Admin),
    ("support@example.com", "Sam Support", Role::Support),
    ("user@example.com", "Uma User", Role::User),
    ("grace@example.com", "Grace Hopper", Role::User),
];

/// What happened to a person of the team.
#[derive(Clone, Copy)]
enum Story {
    /// An account, no API Access.
    Quiet,
    /// API Access with the `Default` key and these keys besides.
    Keys(&'static [ExtraKey]),
    /// Regenerated their key a few hours ago, with a day's grace: the old one is retiring.
    Rotating,
    /// Turned API Access off themself.
    TurnedOff,
    /// An admin cleared their API key.
    Cleared,
    /// An admin disabled their account.
    Disabled,
    /// Invited, not yet accepted.
    Invited,
    /// Regenerated their key, and something still sends the old one.
    StillUsingOldKey,
}

#[derive(Clone, Copy)]
struct ExtraKey {
    name: &'static str,
    access: Access,
    expires_in_days: Option<i64>,
}

const READ_CONTACTS_AND_COMPANIES: Access =
    Access::Custom([Level::Read, Level::Read, Level::None, Level::None]);
const WRITE_CONTACTS_READ_JOBS: Access =
    Access::Custom([Level::Write, Level::None, Level::Read, Level::None]);

/// The team: email, name, role, what happened, and how many days ago they joined.
const TEAM: &[(&str, &str, Role, Story, i64)] = &[
    (
        "lin.wei@northwind.example",
        "Lin Wei",
        Role::Admin,
        Story::Quiet,
        66,
    ),
    (
        "tomas@northwind.example",
        "Tomás Herrera",
        Role::Support,
        Story::Quiet,
        61,
    ),
    (
        "priya@acme.example",
        "Priya Raman",
        Role::User,
        Story::Keys(&[
            ExtraKey {
                name: "CI deploy",
                access: Access::Read,
                expires_in_days: None,
            },
            ExtraKey {
                name: "Billing sync",
                access: READ_CONTACTS_AND_COMPANIES,
                expires_in_days: Some(30),
            },
        ]),
        58,
    ),
    (
        "jonas@acme.example",
        "Jonas Berg",
        Role::User,
        Story::Keys(&[]),
        55,
    ),
    (
        "amara@globex.example",
        "Amara Okafor",
        Role::User,
        Story::Rotating,
        52,
    ),
    (
        "mateo@globex.example",
        "Mateo Rossi",
        Role::User,
        Story::TurnedOff,
        49,
    ),
    (
        "hana@initech.example",
        "Hana Sato",
        Role::User,
        Story::Cleared,
        46,
    ),
    (
        "felix@initech.example",
        "Felix Wagner",
        Role::User,
        Story::Disabled,
        43,
    ),
    (
        "omar@umbrella.example",
        "Omar Haddad",
        Role::User,
        Story::StillUsingOldKey,
        40,
    ),
    (
        "sofia@hooli.example",
        "Sofia Lindqvist",
        Role::User,
        Story::Keys(&[ExtraKey {
            name: "Reporting",
            access: Access::Read,
            expires_in_days: Some(5),
        }]),
        37,
    ),
    (
        "kwame@hooli.example",
        "Kwame Mensah",
        Role::User,
        Story::Quiet,
        34,
    ),
    (
        "elena@stark.example",
        "Elena Petrova",
        Role::User,
        Story::Keys(&[ExtraKey {
            name: "Staging",
            access: Access::Full,
            expires_in_days: Some(90),
        }]),
        31,
    ),
    (
        "diego@stark.example",
        "Diego Fernández",
        Role::User,
        Story::Quiet,
        28,
    ),
    (
        "aisha@wayne.example",
        "Aisha Khan",
        Role::User,
        Story::Keys(&[]),
        25,
    ),
    (
        "noah@wayne.example",
        "Noah Schmidt",
        Role::User,
        Story::TurnedOff,
        22,
    ),
    (
        "mei@cyberdyne.example",
        "Mei Chen",
        Role::User,
        Story::Keys(&[ExtraKey {
            name: "Zapier",
            access: WRITE_CONTACTS_READ_JOBS,
            expires_in_days: None,
        }]),
        19,
    ),
    (
        "lucas@cyberdyne.example",
        "Lucas Dubois",
        Role::User,
        Story::Quiet,
        16,
    ),
    (
        "zara@tyrell.example",
        "Zara Ahmed",
        Role::Support,
        Story::Quiet,
        13,
    ),
    (
        "ravi@tyrell.example",
        "Ravi Patel",
        Role::User,
        Story::Keys(&[]),
        10,
    ),
    (
        "ingrid@soylent.example",
        "Ingrid Nilsen",
        Role::User,
        Story::Quiet,
        7,
    ),
    (
        "chloe@umbrella.example",
        "Chloé Martin",
        Role::User,
        Story::Invited,
        2,
    ),
];

/// What was created, for the command line to print.
pub struct Demo {
    pub accounts: Vec<User>,
    /// The API key of the user with API Access on.
    pub api_key: String,
}

/// Times relative to now, and small numbers that vary but are the same on every run.
struct Clock {
    now: NaiveDateTime,
    seed: u64,
}

impl Clock {
    fn ago(&self, days: i64, hours: i64) -> NaiveDateTime {
        self.now - Duration::days(days) - Duration::hours(hours)
    }

    /// A number in `0..below`.
    fn vary(&mut self, below: u64) -> u64 {
        // (An LCG: demo data only needs variety, not unpredictability.)
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.seed >> 33) % below.max(1)
    }
}

/// Runs one step of the story and moves the audit events it wrote to `at`.
fn happened<T>(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    step: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<T> {
    let before = history::last_audit_event(conn)?;
    let done = step(conn)?;
    history::move_audit_events(conn, before, at)?;
    Ok(done)
}

fn actor(user: &User) -> Actor {
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
        for &(email, name, role, story, joined) in TEAM {
            member(conn, &mut clock, &ada, (email, name, role), story, joined)?;
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

#[allow(clippy::too_many_arguments)]
fn webhook(
    conn: &mut DbConnection,
    clock: &Clock,
    owner: &User,
    url: &str,
    entity: Entity,
    operation_type: OperationType,
    status: WebhookStatus,
    days_ago: i64,
) -> Result<crate::models::Webhook> {
    Ok(NewWebhook {
        user_id: owner.id,
        url,
        entity,
        operation_type,
        status,
        secret: &super::keys::webhook_secret(),
        created_at: clock.ago(days_ago, 0),
    }
    .insert(conn)?)
}

/// How a webhook's deliveries went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum History {
    /// Delivered, now and then at the second attempt.
    Healthy,
    /// Delivered until a day ago; since then every attempt fails, and keyport retries.
    FailingForADay,
    /// The receiver answered 410 Gone three days ago, and keyport turned the webhook off.
    Gone,
}

/// `count` deliveries over the last `days` days.
fn deliveries(
    conn: &mut DbConnection,
    clock: &mut Clock,
    hook: &crate::models::Webhook,
    days: i64,
    count: u64,
    how: History,
) -> Result<()> {
    let names = [
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
    ];
    let span = (days * 24) as u64;
    for n in 0..count {
        // Oldest first, spread over the span, the newest a few hours ago.
        let hours_ago = (span - span * n / count.max(1)) as i64 + 2;
        let at = clock.ago(0, hours_ago);
        let name = names[clock.vary(names.len() as u64) as usize];
        let record_id = 1000 + n as i64;
        let data = serde_json::json!({
            "id": record_id,
            "first_name": name,
            "last_name": "Example",
            "email": format!("{}.{}@example.com", name.to_lowercase(), record_id),
        })
        .to_string();
        let event_id = NewWebhookEvent {
            event_type: &event_type(hook.entity, hook.operation_type),
            entity: hook.entity,
            operation_type: hook.operation_type,
            record_id,
            data: &data,
            actor_id: Some(hook.user_id),
            created_at: at,
        }
        .insert(conn)?;
        let ms = |clock: &mut Clock| 40 + clock.vary(300) as i64;
        let second = at + Duration::seconds(30);
        let last_day = hours_ago <= 26;
        let (state, next, attempts) = match how {
            History::FailingForADay if last_day => {
                let mut tries: Vec<(NaiveDateTime, Option<i32>, Option<&str>, i64)> = vec![
                    (at, Some(503), None, ms(clock)),
                    (second, None, Some("timed out after 10 s"), 10_000),
                ];
                if hours_ago > 20 {
                    tries.push((at + Duration::hours(6), Some(503), None, ms(clock)));
                    (DeliveryState::Failed, None, tries)
                } else {
                    (DeliveryState::Pending, Some(clock.ago(0, -2)), tries)
                }
            }
            History::Gone if n + 1 == count => (
                DeliveryState::Failed,
                None,
                vec![(clock.ago(3, 0), Some(410), None, ms(clock))],
            ),
            _ if clock.vary(8) == 0 => (
                DeliveryState::Delivered,
                None,
                vec![
                    (at, Some(500), None, ms(clock)),
                    (second, Some(200), None, ms(clock)),
                ],
            ),
            _ => (
                DeliveryState::Delivered,
                None,
                vec![(at, Some(200), None, ms(clock))],
            ),
        };
        let message_id = format!("msg_demo{:04}{:03}", hook.id.0, n);
        PastDelivery {
            event_id,
            webhook_id: hook.id,
            message_id: &message_id,
            state,
            created_at: at,
            next_attempt_at: next,
            attempts,
        }
        .insert(conn)?;
    }
    match how {
        History::FailingForADay => {
            history::set_failing_since(conn, hook.id, clock.ago(1, 2))?;
        }
        History::Gone => {
            crate::models::Webhook::turn_off(
                conn,
                hook.id,
                "Turned off because the receiver answered 410 Gone.",
            )?;
        }
        History::Healthy => {}
    }
    Ok(())
}

/// The key's requests on each of the last `days` days (at most 30), and its last use.
fn used_daily(
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

/// One person of the team and their story.
fn member(
    conn: &mut DbConnection,
    clock: &mut Clock,
    ada: &User,
    (email, name, role): (&str, &str, Role),
    story: Story,
    joined: i64,
) -> Result<()> {
    let admin = actor(ada);
    if let Story::Invited = story {
        let person = happened(conn, clock.ago(joined, 0), |c| {
            people::invite(c, &admin, &Invitation { email, name, role })
        })?;
        history::move_user(conn, person.id, clock.ago(joined, 0), None)?;
        history::move_invited(conn, person.id, clock.ago(joined, 0))?;
        history::move_links(conn, person.id, clock.ago(joined, 0))?;
        return Ok(());
    }
    let person = happened(conn, clock.ago(joined, 0), |c| {
        create_user(
            c,
            &NewAccount {
                email,
                name,
                role,
                password: DEMO_PASSWORD,
            },
        )
    })?;
    let me = actor(&person);
    let (days, hours) = (clock.vary(joined as u64 / 2 + 1), clock.vary(12));
    let signed_in = clock.ago(days as i64, hours as i64);
    history::move_user(conn, person.id, clock.ago(joined, 0), Some(signed_in))?;
    if let Story::Quiet = story {
        return Ok(());
    }
    let enabled_at = clock.ago(joined - 1, 0);
    let issued = happened(conn, enabled_at, |c| api_access::enable(c, &me))?;
    history::move_api_access(conn, person.id, enabled_at)?;
    used_daily(conn, clock, &issued.row, joined - 1)?;
    match story {
        Story::Keys(extra) => {
            for (n, key) in extra.iter().enumerate() {
                let at = clock.ago(joined - 3 - n as i64, 0);
                let made = happened(conn, at, |c| {
                    api_keys::create(
                        c,
                        &me,
                        &KeyRequest {
                            name: key.name.into(),
                            access: key.access,
                            expires_in_days: key.expires_in_days,
                        },
                    )
                })?;
                used_daily(conn, clock, &made.row, joined - 3 - n as i64)?;
            }
            if extra.len() > 1 {
                // A webhook keyport turned off when its receiver said 410 Gone.
                let hook = webhook(
                    conn,
                    clock,
                    &person,
                    "https://hooks.acme.example/keyport/companies",
                    Entity::Company,
                    OperationType::Create,
                    WebhookStatus::On,
                    joined - 4,
                )?;
                deliveries(conn, clock, &hook, 20, 12, History::Gone)?;
            }
        }
        Story::Rotating => {
            let at = clock.ago(0, 5);
            let new = happened(conn, at, |c| {
                api_keys::regenerate(c, &me, issued.row.id, Grace::Day)
            })?;
            used_daily(conn, clock, &new.row, 0)?;
            let hook = webhook(
                conn,
                clock,
                &person,
                "https://globex.example/webhooks/contacts",
                Entity::Contact,
                OperationType::Delete,
                WebhookStatus::On,
                joined - 2,
            )?;
            deliveries(conn, clock, &hook, 21, 8, History::Healthy)?;
        }
        Story::TurnedOff => {
            let at = clock.ago(joined / 2, 0);
            happened(conn, at, |c| api_access::turn_off(c, &me))?;
            history::move_revocations(conn, person.id, at)?;
        }
        Story::Cleared => {
            let at = clock.ago(9, 4);
            happened(conn, at, |c| {
                api_access::clear(
                    c,
                    &admin,
                    person.id,
                    Some("The key was pasted into a public issue tracker."),
                )
            })?;
            history::move_revocations(conn, person.id, at)?;
        }
        Story::Disabled => {
            let at = clock.ago(12, 0);
            happened(conn, at, |c| {
                people::set_disabled(c, By::Person(&admin), person.id, true)
            })?;
            history::move_disabled(conn, person.id, at)?;
        }
        Story::StillUsingOldKey => {
            let at = clock.ago(6, 0);
            let new = happened(conn, at, |c| {
                api_keys::regenerate(c, &me, issued.row.id, Grace::None)
            })?;
            history::move_revocations(conn, person.id, at)?;
            used_daily(conn, clock, &new.row, 6)?;
            StaleUse {
                key_id: issued.row.id,
                uses: 137,
                first_at: clock.ago(6, -1),
                last_at: clock.ago(0, 3),
                last_ip: Some("198.51.100.77".into()),
                sent_as: SentAs::Header,
                method: "GET".into(),
                path: "/api/v1/contacts".into(),
                user_agent: Some("python-requests/2.32.3".into()),
            }
            .add(conn)?;
        }
        Story::Quiet | Story::Invited => {}
    }
    Ok(())
}
