//! The command line's work, apart from serving: users, seeding, backups. Each prints what it
//! did; errors go back to `main`, which prints them.

use std::io::Read;

use crate::config::{DatabaseArgs, MailSettings};
use crate::domain::accounts::{self, NewAccount};
use crate::models::{Role, User};
use crate::server::open;

pub fn backup(args: &DatabaseArgs, path: &std::path::Path) -> anyhow::Result<()> {
    let db = open(args)?;
    let mut conn = db.get()?;
    crate::db::backup(&mut conn, path).map_err(anyhow::Error::msg)?;
    println!("backed up to {}", path.display());
    Ok(())
}

pub fn seed(args: &DatabaseArgs, users: u64, with_keys: bool, webhooks: u64) -> anyhow::Result<()> {
    let db = open(args)?;
    let mut conn = db.get()?;
    let started = std::time::Instant::now();
    let added = crate::domain::seed::people(&mut conn, users, with_keys, webhooks)?;
    println!(
        "added {} people, {} of them with API Access on, and {} webhooks",
        added.users, added.keys, added.webhooks
    );
    // How long it took, for benchmarks; apart from the line scripts read.
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `keyport mail test`: one mail through the configured SMTP server, and its reply.
pub fn mail_test(
    settings: &MailSettings,
    to: &str,
    public_url: Option<&str>,
) -> anyhow::Result<()> {
    use crate::domain::mail::{MailContent, compose, transport::Transport};
    let Some(url) = settings.smtp_url.as_deref() else {
        anyhow::bail!(
            "KEYPORT_SMTP_URL is not set: there is no SMTP server to test (mails go to the log)"
        );
    };
    let from = settings
        .mail_from
        .parse()
        .map_err(|e| anyhow::anyhow!("KEYPORT_MAIL_FROM is not an address: {e}"))?;
    let content = MailContent::new(
        "a test mail",
        "This is a test mail from keyport: mail reaches you.",
    )
    .paragraph("Someone with access to the keyport server sent it with `keyport mail test`.");
    let message = compose::render(to, to, &content, &from, public_url.unwrap_or(""), None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // lettre's connection pool starts a task as it is made: inside the runtime.
    let sent = runtime.block_on(async {
        let transport = Transport::new(Some(url)).map_err(anyhow::Error::msg)?;
        Ok::<_, anyhow::Error>(transport.send(message).await)
    })?;
    match sent {
        Ok(reply) => {
            println!("sent to {to}; the server said: {reply}");
            Ok(())
        }
        Err(refused) => anyhow::bail!(
            "the mail was not sent ({}): {}",
            if refused.permanent {
                "refused for good"
            } else {
                "try again later"
            },
            refused.reason
        ),
    }
}

/// The password on standard input, without its final line break.
pub fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .take(accounts::MAX_PASSWORD_BYTES as u64 + 2)
        .read_to_string(&mut password)
        .map_err(|e| anyhow::anyhow!("could not read the password from standard input: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs one change to the user with this email; "no user" gets its own message.
pub fn change_user(
    args: &DatabaseArgs,
    email: &str,
    change: impl FnOnce(&mut crate::db::DbConnection) -> crate::domain::Result<User>,
) -> anyhow::Result<User> {
    let db = open(args)?;
    let mut conn = db.get()?;
    change(&mut conn).map_err(|e| match e {
        crate::domain::Error::NotFound => {
            anyhow::anyhow!("there is no user with the email {email}")
        }
        other => other.into(),
    })
}

pub fn create_user(args: &DatabaseArgs, email: &str, name: &str, role: Role) -> anyhow::Result<()> {
    let password = read_password()?;
    let password = password.as_str();
    let db = open(args)?;
    let mut conn = db.get()?;
    let user = accounts::create_user(
        &mut conn,
        &NewAccount {
            email,
            name,
            role,
            password,
        },
    )?;
    println!("created {} ({}) as {}", user.email, user.name, user.role);
    println!("{}", user.id);
    Ok(())
}
