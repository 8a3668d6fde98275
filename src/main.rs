//! The keyport command line: serve, migrate, user, seed, backup.

use std::io::Read;
use std::process::ExitCode;

use actix_web::HttpServer;
use clap::{Parser, Subcommand, ValueEnum};

use keyport::config::{DatabaseArgs, ServeArgs};
use keyport::db::{DatabaseUrl, Db};
use keyport::domain::accounts::{self, NewAccount};
use keyport::domain::delivery::Worker;
use keyport::domain::{demo, setup, sign_in_limits};
use keyport::models::{Role, User};
use keyport::{AppState, app};

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
    Serve(ServeArgs),
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
        Command::Serve(args) => serve(args),
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
                accounts::set_disabled(c, &email, true)
            })
            .map(|u| println!("{} is turned off; their sessions have ended", u.email))
        }
        Command::User(UserCommand::Enable { email, database }) => {
            change_user(&database, &email, |c| {
                accounts::set_disabled(c, &email, false)
            })
            .map(|u| println!("{} is turned on", u.email))
        }
        Command::User(UserCommand::SetRole {
            email,
            role,
            database,
        }) => change_user(&database, &email, |c| {
            accounts::set_role(c, &email, role.into())
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
        Err(message) => {
            eprintln!("keyport: {message}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives threads that allocate their own heap arenas (up to eight per core), and the
/// blocking threads that hash passwords and talk to the database are many: resident memory
/// then climbs for minutes under load (82 MB to 145 MB in 3 minutes of bench/load). Two arenas
/// keep it flat. And glibc raises its mmap threshold to the size of the largest block freed,
/// so after the first password hash (Argon2 takes 19 MiB) every later one comes from the heap
/// and stays resident: a fixed threshold of 4 MiB gives each back when it is done (idle RSS
/// 23–25 MB instead of 40–62 MB after the demo accounts' hashes). An operator's own
/// MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ wins.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only tunes the allocator, and runs before any other thread exists.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
            }
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYPORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("KEYPORT_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Connects to the database named by the arguments and brings its schema up to date.
fn open(args: &DatabaseArgs) -> Result<Db, String> {
    let url = DatabaseUrl::parse(&args.database_url)?;
    let db = Db::connect(&url, args.pool_size(url.is_postgres())).map_err(|e| e.to_string())?;
    db.migrate().map_err(|e| e.to_string())?;
    Ok(db)
}

fn backup(args: &DatabaseArgs, path: &std::path::Path) -> Result<(), String> {
    let db = open(args)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    keyport::db::backup(&mut conn, path)?;
    println!("backed up to {}", path.display());
    Ok(())
}

fn seed(args: &DatabaseArgs, users: u64, with_keys: bool, webhooks: u64) -> Result<(), String> {
    let db = open(args)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let added = keyport::domain::seed::people(&mut conn, users, with_keys, webhooks)
        .map_err(|e| e.to_string())?;
    println!(
        "added {} people, {} of them with API Access on, and {} webhooks",
        added.users, added.keys, added.webhooks
    );
    // How long it took, for benchmarks; apart from the line scripts read.
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The password on standard input, without its final line break.
fn read_password() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin()
        .take(accounts::MAX_PASSWORD_BYTES as u64 + 2)
        .read_to_string(&mut password)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs one change to the user with this email; "no user" gets its own message.
fn change_user(
    args: &DatabaseArgs,
    email: &str,
    change: impl FnOnce(&mut keyport::db::DbConnection) -> keyport::domain::Result<User>,
) -> Result<User, String> {
    let db = open(args)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    change(&mut conn).map_err(|e| match e {
        keyport::domain::Error::NotFound => format!("there is no user with the email {email}"),
        other => other.to_string(),
    })
}

fn create_user(args: &DatabaseArgs, email: &str, name: &str, role: Role) -> Result<(), String> {
    let password = read_password()?;
    let password = password.as_str();
    let db = open(args)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let user = accounts::create_user(
        &mut conn,
        &NewAccount {
            email,
            name,
            role,
            password,
        },
    )
    .map_err(|e| e.to_string())?;
    println!("created {} ({}) as {}", user.email, user.name, user.role);
    println!("{}", user.id);
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let db = open(&args.database)?;
    announce_first_start(&db, &args)?;
    let state = AppState::new(db.clone(), args.web.clone())
        .map_err(|e| e.to_string())?
        .with_delivery(args.delivery.clone());
    let deadline = args.shutdown_timeout;
    actix_web::rt::System::new().block_on(async move {
        let worker =
            Worker::new(db.clone(), args.delivery.clone())?.with_metrics(state.metrics.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let delivering = actix_web::rt::spawn(async move { worker.run(stopped).await });
        actix_web::rt::spawn(sweep_expired_sessions(db));
        actix_web::rt::spawn(forget_idle_limits(state.clone()));
        let server = HttpServer::new(move || app(state.clone()))
            // Signals are ours: the delivery worker stops with the server.
            .disable_signals()
            .shutdown_timeout(deadline.as_secs())
            .bind(&args.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?
            .run();
        let handle = server.handle();
        tracing::info!(bind = %args.bind, "keyport is listening");
        actix_web::rt::spawn(async move {
            shutdown_signal().await;
            tracing::info!(?deadline, "shutting down: finishing requests and deliveries in flight");
            let _ = stop.send(true);
            // Stops accepting at once; waits for requests in flight up to the deadline.
            handle.stop(true).await;
        });
        server.await.map_err(|e| e.to_string())?;
        if tokio::time::timeout(deadline, delivering).await.is_err() {
            tracing::warn!("deliveries still in flight at the deadline; their claims expire and another instance retries them");
        }
        tracing::info!("keyport stopped");
        Ok(())
    })
}

/// SIGTERM (from a service manager or an orchestrator) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// With --demo, demo accounts; otherwise, on a database with no users, a one-time setup link.
fn announce_first_start(db: &Db, args: &ServeArgs) -> Result<(), String> {
    let mut conn = db.get().map_err(|e| e.to_string())?;
    if args.demo {
        if let Some(demo) = demo::seed(&mut conn).map_err(|e| e.to_string())? {
            println!(
                "Demo data created. Sign in at http://{}/login with any of:",
                args.bind
            );
            for user in &demo.accounts {
                println!(
                    "  {:<22} {:<8} password: {}",
                    user.email,
                    user.role.as_str(),
                    demo::DEMO_PASSWORD
                );
            }
            println!("API key of user@example.com (shown once): {}", demo.api_key);
        } else {
            println!("The database already has users, so no demo data was added.");
        }
        return Ok(());
    }
    if !User::any_exist(&mut conn).map_err(|e| e.to_string())? {
        let token = setup::create_link_token(&mut conn).map_err(|e| e.to_string())?;
        let base = args
            .web
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.bind));
        println!("keyport has no users yet. Create the first admin here (the link works once):");
        println!("  {}/setup?token={token}", base.trim_end_matches('/'));
    }
    Ok(())
}

/// Throttling state of clients that are back to their full allowance is dropped, so memory
/// and the sign-in limits' table follow recent clients, not every client ever seen.
async fn forget_idle_limits(state: AppState) {
    let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        state.throttles.forget_idle();
        let forgotten = state
            .db
            .write(|c| {
                sign_in_limits::forget_spent(c, sign_in_limits::now_micros())
                    .map_err(anyhow::Error::from)
            })
            .await;
        if let Err(e) = forgotten {
            tracing::warn!(error = %e, "could not forget spent sign-in limits");
        }
    }
}

async fn sweep_expired_sessions(db: Db) {
    let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        let swept = db
            .write(|c| {
                keyport::models::session::Session::delete_expired(c, keyport::db::now())
                    .map_err(anyhow::Error::from)
            })
            .await;
        if let Err(e) = swept {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
    }
}
