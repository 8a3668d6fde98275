//! `keyport serve` as a library: the HTTP server, the webhook worker and the sweepers, started
//! together and stopped together (SIGTERM or Ctrl-C: requests and deliveries in flight finish,
//! up to the shutdown timeout). `main.rs` only parses the command line.

use actix_web::HttpServer;
use anyhow::Context;

use crate::config::{DatabaseArgs, ServeArgs};
use crate::db::{DatabaseUrl, Db};
use crate::domain::delivery::Worker;
use crate::domain::mail::worker::MailWorker;
use crate::domain::{demo, setup, sign_in_limits};
use crate::models::User;
use crate::{AppState, app};

/// Connects to the database named by the arguments and brings its schema up to date.
pub fn open(args: &DatabaseArgs) -> anyhow::Result<Db> {
    let url = DatabaseUrl::parse(&args.database_url).map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url, args.pool_size(url.is_postgres()))?;
    db.migrate()?;
    Ok(db)
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let db = open(&args.database)?;
    let public_url = mail_links(&args)?;
    announce_first_start(&db, &args)?;
    if args.demo && args.mail.smtp_url.is_none() {
        println!(
            "No SMTP server is set (KEYPORT_SMTP_URL): the mails keyport sends are written to its log."
        );
    }
    let state = AppState::new(db.clone(), args.web.clone())?.with_delivery(args.delivery.clone());
    let deadline = args.shutdown_timeout;
    actix_web::rt::System::new().block_on(async move {
        let worker =
            Worker::new(db.clone(), args.delivery.clone()).map_err(anyhow::Error::msg)?.with_metrics(state.metrics.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // (lettre's connection pool starts a task as it is made: inside the runtime.)
        let mailer = MailWorker::new(db.clone(), &args.mail, &public_url).map_err(anyhow::Error::msg)?;
        let mail_stop = stopped.clone();
        let delivering = actix_web::rt::spawn(async move { worker.run(stopped).await });
        let mailing = actix_web::rt::spawn(async move { mailer.run(mail_stop).await });
        actix_web::rt::spawn(remind_expiring_keys(db.clone()));
        actix_web::rt::spawn(sweep_expired_sessions(db));
        actix_web::rt::spawn(forget_idle_limits(state.clone()));
        actix_web::rt::spawn(write_key_usage(state.clone(), args.usage_flush));
        let usage = state.clone();
        let server = HttpServer::new(move || app(state.clone()))
            // Signals are ours: the delivery worker stops with the server.
            .disable_signals()
            .shutdown_timeout(deadline.as_secs())
            .bind(&args.bind)
            .with_context(|| format!("cannot listen on {}", args.bind))?
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
        server.await?;
        // What the last requests counted is kept.
        if let Err(e) = usage.key_usage.flush(&usage.db).await {
            tracing::warn!(error = %e, "could not write the last key usage at shutdown");
        }
        if tokio::time::timeout(deadline, mailing).await.is_err() {
            tracing::warn!("a mail was still being sent at the deadline; it is sent again later");
        }
        if tokio::time::timeout(deadline, delivering).await.is_err() {
            tracing::warn!("deliveries still in flight at the deadline; their claims expire and another instance retries them");
        }
        tracing::info!("keyport stopped");
        Ok(())
    })
}

/// Where links in mails point: `KEYPORT_PUBLIC_URL`, which must be an absolute http(s) URL
/// when mail goes to an SMTP server.
fn mail_links(args: &ServeArgs) -> anyhow::Result<String> {
    let public_url = match (&args.web.public_url, &args.mail.smtp_url) {
        (Some(url), None) => url.clone(),
        (Some(url), Some(_)) => {
            let parsed = url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if parsed.is_none() {
                anyhow::bail!(
                    "KEYPORT_PUBLIC_URL must be an absolute http(s) URL such as https://keyport.example.com (it is `{url}`)"
                );
            }
            url.clone()
        }
        (None, Some(_)) => anyhow::bail!(
            "KEYPORT_SMTP_URL is set, so KEYPORT_PUBLIC_URL must be too: links in mails need the address people reach keyport at"
        ),
        (None, None) => format!("http://{}", args.bind),
    };
    Ok(public_url)
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
fn announce_first_start(db: &Db, args: &ServeArgs) -> anyhow::Result<()> {
    let mut conn = db.get()?;
    if args.demo {
        if let Some(demo) = demo::seed(&mut conn)? {
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
    if !User::any_exist(&mut conn)? {
        let token = setup::create_link_token(&mut conn)?;
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

/// Writes each key's usage, counted in memory, every `every`; once an hour drops the days
/// no longer kept, and the webhooks' hourly attempt counts no longer read.
async fn write_key_usage(state: AppState, every: std::time::Duration) {
    let mut ticks = actix_web::rt::time::interval(every);
    let mut pruned_at: Option<std::time::Instant> = None;
    loop {
        ticks.tick().await;
        if let Err(e) = state.key_usage.flush(&state.db).await {
            tracing::warn!(error = %e, "could not write key usage; it is kept for the next try");
        }
        if pruned_at.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(3600)) {
            pruned_at = Some(std::time::Instant::now());
            let today = crate::db::now().date();
            let pruned = state
                .db
                .write(move |c| {
                    crate::domain::key_usage::prune(c, today).map_err(anyhow::Error::from)?;
                    crate::domain::webhook_overview::forget_old_hours(c)
                        .map_err(anyhow::Error::from)
                })
                .await;
            if let Err(e) = pruned {
                tracing::warn!(error = %e, "could not prune old key usage and webhook counts");
            }
        }
    }
}

/// Every ten minutes, queues the expiry reminders that are due (each goes once).
async fn remind_expiring_keys(db: Db) {
    let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        let queued = db
            .write(|c| {
                crate::db::write_transaction(c, |c| {
                    crate::domain::mail::reminders::queue_due(c, crate::db::now())
                })
                .map_err(anyhow::Error::from)
            })
            .await;
        if let Err(e) = queued {
            tracing::warn!(error = %e, "could not queue the expiry reminders");
        }
    }
}

async fn sweep_expired_sessions(db: Db) {
    let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        let swept = db
            .write(|c| {
                crate::models::session::Session::delete_expired(c, crate::db::now())
                    .map_err(anyhow::Error::from)
            })
            .await;
        if let Err(e) = swept {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
    }
}
