//! Demo data for `keyport serve --demo`: an admin, a support user and two users, one of them
//! with API Access on and a few webhooks.

use super::Result;
use super::accounts::{NewAccount, create_user};
use super::api_access;
use super::audit::Actor;
use crate::db::{DbConnection, now, write_transaction};
use crate::models::{Entity, NewWebhook, OperationType, Role, User, WebhookStatus};

pub const DEMO_PASSWORD: &str = "keyport-demo-password";

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

/// Creates the demo data when the database has no users; returns None otherwise.
pub fn seed(conn: &mut DbConnection) -> Result<Option<Demo>> {
    write_transaction(conn, |conn| {
        if User::any_exist(conn)? {
            return Ok(None);
        }
        let mut accounts = Vec::new();
        for &(email, name, role) in DEMO_ACCOUNTS {
            accounts.push(create_user(
                conn,
                &NewAccount {
                    email,
                    name,
                    role,
                    password: DEMO_PASSWORD,
                },
            )?);
        }
        let uma = &accounts[2];
        let issued = api_access::enable(
            conn,
            &Actor {
                id: uma.id,
                ip: None,
            },
        )?;
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
        for (url, entity, operation_type, status) in hooks {
            NewWebhook {
                user_id: uma.id,
                url,
                entity,
                operation_type,
                status,
                secret: &super::keys::webhook_secret(),
                created_at: now(),
            }
            .insert(conn)?;
        }
        Ok(Some(Demo {
            accounts,
            api_key: issued.key.expose().to_owned(),
        }))
    })
}
