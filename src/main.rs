//! The keyport command line: serve, migrate, user, mail, seed, backup.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use keyport::commands::{backup, change_user, create_user, mail_test, read_password, seed};
use keyport::config::{DatabaseArgs, ServeArgs};
use keyport::domain::audit::By;
use keyport::domain::{accounts, people};
use keyport::models::Role;
use keyport::process::{init_tracing, tune_malloc};
use keyport::server::{open, serve};

#[derive(Parser)]
#[command(
    name = "keyport",
    version,
    about = "A self-hosted portal for API keys and webhooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve the portal and the API.
    Serve(Box<ServeArgs>),
    /// Run pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Add generated people (for trying keyport at scale, tests and benchmarks).
    Seed {
        /// How many people to add, after those already there.
        #[arg(long)]
        users: u64,
        /// Turn API Access on for each (their keys are not shown to anyone).
        #[arg(long)]
        with_keys: bool,
        /// Webhooks to add, one per person from the first (Off: listed, never sent).
        #[arg(long, default_value_t = 0)]
        webhooks: u64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Copy a live SQLite database, consistently, to a new file (PostgreSQL: use pg_dump).
    /// Mail: `keyport mail test --to ADDRESS` sends one mail through the SMTP server.
    #[command(subcommand)]
    Mail(MailCommand),
    Backup {
        /// The file to write; it must not exist yet.
        path: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints the new user's id alone on the last line.
    Create {
        #[arg(long, env = "KEYPORT_USER_EMAIL")]
        email: String,
        #[arg(long, env = "KEYPORT_USER_NAME")]
        name: String,
        #[arg(long, value_enum, env = "KEYPORT_USER_ROLE", default_value_t = RoleArg::User)]
        role: RoleArg,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long, env = "KEYPORT_PASSWORD_STDIN", required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Turn an account off: it cannot sign in, its sessions end at once and its API key fails.
    Disable {
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Turn an account on again (its API key, if it had one, works again).
    Enable {
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Change what someone may do; it takes effect on their next request.
    SetRole {
        email: String,
        #[arg(value_enum)]
        role: RoleArg,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a new password, read from standard input; every session of the user ends.
    SetPassword {
        email: String,
        #[arg(long, env = "KEYPORT_PASSWORD_STDIN", required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send one test mail through the configured SMTP server and print its reply.
    Test {
        /// Who gets it.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        mail: keyport::config::MailSettings,
        /// The address people use (not needed for the test).
        #[arg(long, env = "KEYPORT_PUBLIC_URL")]
        public_url: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    User,
    Admin,
    Support,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::User => Role::User,
            RoleArg::Admin => Role::Admin,
            RoleArg::Support => Role::Support,
        }
    }
}

fn main() -> ExitCode {
    tune_malloc();
    init_tracing();
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(*args),
        Command::Mail(MailCommand::Test {
            to,
            mail,
            public_url,
        }) => mail_test(&mail, &to, public_url.as_deref()),
        Command::Migrate(args) => open(&args).map(|_| println!("migrations are up to date")),
        Command::User(UserCommand::Create {
            email,
            name,
            role,
            database,
            ..
        }) => create_user(&database, &email, &name, role.into()),
        Command::User(UserCommand::Disable { email, database }) => {
            change_user(&database, &email, |c| {
                let person = people::by_email(c, &email)?;
                people::set_disabled(c, By::CommandLine, person.id, true)
            })
            .map(|u| println!("{} is turned off; their sessions have ended", u.email))
        }
        Command::User(UserCommand::Enable { email, database }) => {
            change_user(&database, &email, |c| {
                let person = people::by_email(c, &email)?;
                people::set_disabled(c, By::CommandLine, person.id, false)
            })
            .map(|u| println!("{} is turned on", u.email))
        }
        Command::User(UserCommand::SetRole {
            email,
            role,
            database,
        }) => change_user(&database, &email, |c| {
            let person = people::by_email(c, &email)?;
            people::change_role(c, By::CommandLine, person.id, role.into())
        })
        .map(|u| println!("{} is now {}", u.email, Role::from(role))),
        Command::User(UserCommand::SetPassword {
            email, database, ..
        }) => read_password().and_then(|password| {
            change_user(&database, &email, |c| {
                accounts::set_password(c, &email, &password)
            })
            .map(|u| {
                println!(
                    "{}'s password is changed; their sessions have ended",
                    u.email
                )
            })
        }),
        Command::Seed {
            users,
            with_keys,
            webhooks,
            database,
        } => seed(&database, users, with_keys, webhooks),
        Command::Backup { path, database } => backup(&database, &path),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyport: {error}");
            ExitCode::FAILURE
        }
    }
}
