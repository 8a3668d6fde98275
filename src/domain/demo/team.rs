//! The demo's team: who they are and what happened to each.

use super::deliveries::{History, deliveries, webhook};
use super::{Clock, DEMO_PASSWORD, actor, happened, used_daily};
use crate::db::DbConnection;
use crate::domain::Result;
use crate::domain::accounts::{NewAccount, create_user};
use crate::domain::api_access;
use crate::domain::api_keys::{self, Grace, KeyRequest};
use crate::domain::audit::By;
use crate::domain::people::{self, Invitation};
use crate::domain::scopes::{Access, Level};
use crate::models::demo_history as history;
use crate::models::key_usage::{SentAs, StaleUse};
use crate::models::{Entity, OperationType, Role, User, WebhookStatus};

/// What happened to a person of the team.
#[derive(Clone, Copy)]
pub(super) enum Story {
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
pub(super) struct ExtraKey {
    name: &'static str,
    access: Access,
    expires_in_days: Option<i64>,
}

const READ_CONTACTS_AND_COMPANIES: Access =
    Access::Custom([Level::Read, Level::Read, Level::None, Level::None]);
const WRITE_CONTACTS_READ_JOBS: Access =
    Access::Custom([Level::Write, Level::None, Level::Read, Level::None]);

/// The team: email, name, role, what happened, and how many days ago they joined.
#[rustfmt::skip]
pub(super) const TEAM: &[(&str, &str, Role, Story, i64)] = &[
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

/// One person of the team and their story.
pub(super) fn member(
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
