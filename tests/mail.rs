//! Mail: keyport tells people what happened, through a real SMTP server (aiosmtpd), from a
//! durable outbox — queued with the change, retried, every attempt kept.

use std::collections::HashMap;
use std::time::Duration;

use diesel::prelude::*;
use keyport::config::RetrySchedule;
use keyport::db::schema::{mail_attempts, mails};
use keyport::domain::api_access;
use keyport::domain::audit::Actor;
use keyport::models::Role;

use crate::support::{
    Browser, PUBLIC_URL, ReceivedMail, Served, SmtpServer, TestApp, TestUser, send_all,
    serve_with_env,
};

fn queued(app: &TestApp) -> Vec<(String, String, Option<String>, i32)> {
    app.with_conn(|c| {
        mails::table
            .order(mails::id.asc())
            .select((
                mails::to_email,
                mails::state,
                mails::last_error,
                mails::attempts,
            ))
            .load(c)
    })
    .expect("mails")
}

/// What every mail keyport sends must be: to the person, marked automatic, both parts, the
/// link on the public address, and never a key.
fn check(mail: &ReceivedMail, to: &TestUser, subject: &str, path: &str, secrets: &[&str]) {
    assert_eq!(mail.to, vec![to.email.clone()], "{subject}");
    assert_eq!(mail.subject(), subject);
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(mail.header("Message-ID").is_some(), "{subject}: Message-ID");
    assert!(mail.header("Date").is_some(), "{subject}: Date");
    let (text, html) = (mail.text(), mail.html());
    let link = format!("{PUBLIC_URL}{path}");
    assert!(text.contains(&link), "{subject}: {link} in\n{text}");
    assert!(
        html.contains(&format!("href=\"{link}\"")),
        "{subject}: link in the HTML part"
    );
    let raw = String::from_utf8_lossy(&mail.raw);
    for secret in secrets {
        assert!(
            !raw.contains(secret) && !text.contains(secret) && !html.contains(secret),
            "{subject} carries a key"
        );
    }
}

/// The mail's link, followed by the person it went to, opens the page it names.
async fn opens(reader: &Browser, path: &str, shows: &str) {
    let page = reader.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    assert!(page.contains(shows), "{path} shows {shows:?}");
}

async fn create_key(browser: &Browser, name: &str) -> String {
    let page = browser
        .post(
            "/settings/api-access/keys",
            &[("name", name), ("access", "full")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.shown_key()
}

#[actix_web::test]
async fn key_changes_mail_their_owner_with_both_parts_a_link_and_never_the_key() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (user, browser) = app.signed_in(Role::User, "Mia Mail").await;
    let default = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let ci = create_key(&browser, "CI").await;
    let ci_id = app
        .with_conn(|c| keyport::models::ApiKeyRow::active_for_user(c, user.id))
        .expect("key")
        .expect("live")
        .id;
    let regenerated = browser
        .post(
            &format!("/settings/api-access/keys/{ci_id}/regenerate"),
            &[("grace", "24h")],
        )
        .await;
    let rotated = regenerated.shown_key();
    let rotated_id = app
        .with_conn(|c| keyport::models::ApiKeyRow::active_for_user(c, user.id))
        .expect("key")
        .expect("live")
        .id;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let cleared = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", user.id),
            &[("reason", "found in a public repository")],
        )
        .await;
    assert_eq!(cleared.status, 303);

    assert_eq!(send_all(&mailer).await, 4);
    let mails = smtp.wait_for(4);
    assert_eq!(mails.len(), 4);
    let keys = [default.as_str(), ci.as_str(), rotated.as_str()];
    check(
        &mails[0],
        &user,
        "keyport: API Access is on",
        "/settings/api-access",
        &keys,
    );
    check(
        &mails[1],
        &user,
        "keyport: a new API key, “CI”",
        &format!("/settings/api-access/keys/{ci_id}"),
        &keys,
    );
    assert!(
        mails[1].text().contains(&format!("{}…", &ci[..9])),
        "the prefix names the key"
    );
    check(
        &mails[2],
        &user,
        "keyport: the API key “CI” was regenerated",
        &format!("/settings/api-access/keys/{rotated_id}"),
        &keys,
    );
    assert!(mails[2].text().contains("The old key keeps working until"));
    check(
        &mails[3],
        &user,
        "keyport: an admin cleared your API key",
        "/settings/api-access",
        &keys,
    );
    let text = mails[3].text();
    assert!(
        text.contains("Reason: found in a public repository"),
        "{text}"
    );
    assert!(text.contains("By: Ada Admin"), "{text}");
    assert!(text.contains("From: 127.0.0.1"), "{text}");
    assert!(mails[3].html().contains("found in a public repository"));
    // Every attempt is kept, with the server's reply.
    let replies: Vec<String> = app
        .with_conn(|c| mail_attempts::table.select(mail_attempts::reply).load(c))
        .expect("attempts");
    assert_eq!(replies.len(), 4);
    assert!(replies.iter().all(|r| r.starts_with("250")), "{replies:?}");
    opens(&browser, "/settings/api-access", "API Access").await;
    opens(
        &browser,
        &format!("/settings/api-access/keys/{ci_id}"),
        "CI",
    )
    .await;
    opens(
        &browser,
        &format!("/settings/api-access/keys/{rotated_id}"),
        "CI",
    )
    .await;
}

#[actix_web::test]
async fn a_password_change_mails_the_person() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let (user, browser) = app.signed_in(Role::User, "Pia Password").await;
    let page = browser
        .post(
            "/settings/password",
            &[
                ("current_password", crate::support::PASSWORD),
                ("new_password", "a brand new passphrase 42"),
                ("confirm_password", "a brand new passphrase 42"),
            ],
        )
        .await;
    assert!(page.status < 400, "{}", page.body);
    assert_eq!(send_all(&smtp.worker(&app.db)).await, 1);
    let mails = smtp.wait_for(1);
    check(
        &mails[0],
        &user,
        "keyport: your password was changed",
        "/settings/password",
        &["a brand new passphrase 42"],
    );
    opens(&browser, "/settings/password", "Password &amp; Sign-in").await;
}

#[actix_web::test]
async fn a_change_rolled_back_queues_no_mail() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Rolf Rollback");
    let actor = Actor {
        id: user.id,
        ip: None,
    };
    let outcome = app.with_conn(|c| {
        c.transaction::<(), diesel::result::Error, _>(|c| {
            api_access::enable(c, &actor).expect("enable");
            assert_eq!(
                mails::table.count().get_result::<i64>(c)?,
                1,
                "queued with the change"
            );
            Err(diesel::result::Error::RollbackTransaction)
        })
    });
    assert!(outcome.is_err());
    assert!(queued(&app).is_empty(), "nothing queued");
}

#[actix_web::test]
async fn mail_waits_for_a_server_that_is_down_and_a_refusal_for_good_is_not_retried() {
    let app = TestApp::spawn().await;
    let mut smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let enable = |user: &TestUser| {
        let actor = Actor {
            id: user.id,
            ip: None,
        };
        app.with_conn(|c| api_access::enable(c, &actor))
            .expect("enable");
    };

    // Down: the attempt is kept and the mail waits; back up, it goes, once.
    smtp.stop();
    let patient = app.create_user(Role::User, "Pat Patient");
    enable(&patient);
    assert_eq!(mailer.send_due().await.expect("send"), 1);
    let state = queued(&app);
    assert_eq!(
        (state[0].1.as_str(), state[0].3),
        ("pending", 1),
        "{state:?}"
    );
    assert!(state[0].2.is_some(), "the error is kept");
    smtp.restart();
    assert_eq!(send_all(&mailer).await, 1);
    assert_eq!(smtp.wait_for(1).len(), 1);
    assert_eq!(queued(&app)[0].1, "sent");

    // A 550: given up at once with the reason; never tried again.
    let refused = app.create_user(Role::User, "Refused Rita");
    enable(&refused);
    assert_eq!(send_all(&mailer).await, 1);
    let state = queued(&app);
    assert_eq!(
        (state[1].1.as_str(), state[1].3),
        ("failed", 1),
        "{state:?}"
    );
    let reason = state[1].2.clone().unwrap_or_default();
    assert!(
        reason.contains("refused for good") && reason.contains("550"),
        "{reason}"
    );

    // A 451 is retried, and given up after the schedule (two retries here).
    let busy = app.create_user(Role::User, "Busy Bob");
    enable(&busy);
    assert_eq!(send_all(&mailer).await, 3);
    let state = queued(&app);
    assert_eq!(
        (state[2].1.as_str(), state[2].3),
        ("failed", 3),
        "{state:?}"
    );
    assert!(
        state[2]
            .2
            .clone()
            .unwrap_or_default()
            .contains("given up after 3 attempts")
    );
    assert_eq!(smtp.received().len(), 1, "only the patient mail arrived");
}

#[actix_web::test]
async fn a_name_with_a_line_break_cannot_add_a_header_or_a_recipient() {
    use keyport::models::NewUser;
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let email = "crafted@example.com";
    let user = app
        .with_conn(|c| {
            NewUser {
                email,
                email_normalized: email,
                name: "Eve\r\nBcc: thief@example.com\r\nSubject: you won",
                password_hash: "not a hash",
                role: Role::User,
                created_at: keyport::db::now(),
                invited_at: None,
            }
            .insert(c)
        })
        .expect("user");
    let actor = Actor {
        id: user.id,
        ip: None,
    };
    app.with_conn(|c| api_access::enable(c, &actor))
        .expect("enable");
    assert_eq!(send_all(&smtp.worker(&app.db)).await, 1);
    let mails = smtp.wait_for(1);
    assert_eq!(mails[0].to, vec![email.to_owned()], "one recipient");
    assert_eq!(mails[0].subject(), "keyport: API Access is on");
    assert!(mails[0].header("Bcc").is_none());
}

#[actix_web::test]
async fn keyport_mail_test_sends_one_mail_or_says_why_not() {
    let smtp = SmtpServer::start();
    let run = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_keyport"))
            .args(["mail", "test", "--to", "operator@example.com"])
            .env("KEYPORT_SMTP_URL", url)
            .env("KEYPORT_MAIL_FROM", "keyport <keyport@example.com>")
            .env("KEYPORT_LOG", "warn")
            .output()
            .expect("run keyport mail test")
    };
    let sent = run(&smtp.url());
    let stdout = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(stdout.contains("the server said: 250"), "{stdout}");
    let mails = smtp.wait_for(1);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["operator@example.com".to_owned()]);
    assert_eq!(mails[0].subject(), "keyport: a test mail");

    let closed = format!("smtp://127.0.0.1:{}", crate::support::free_port());
    let failed = run(&closed);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success());
    assert!(stderr.contains("the mail was not sent"), "{stderr}");
    let unset = std::process::Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(["mail", "test", "--to", "operator@example.com"])
        .env_remove("KEYPORT_SMTP_URL")
        .output()
        .expect("run");
    assert!(!unset.status.success());
    assert!(String::from_utf8_lossy(&unset.stderr).contains("KEYPORT_SMTP_URL is not set"));
}

#[actix_web::test]
async fn an_expiry_reminder_goes_once_per_key_and_threshold_and_only_to_who_wants_it() {
    use keyport::db::schema::api_keys;
    use keyport::domain::mail::reminders;
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (user, browser) = app.signed_in(Role::User, "Rae Reminded").await;
    browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let key = browser
        .post(
            "/settings/api-access/keys",
            &[
                ("name", "Nightly"),
                ("access", "read"),
                ("expires_in_days", "30"),
            ],
        )
        .await
        .shown_key();
    send_all(&mailer).await; // API Access on, a new key
    let before = smtp.wait_for(2).len();
    let id: i64 = app
        .with_conn(|c| {
            api_keys::table
                .filter(api_keys::name.eq("Nightly"))
                .select(api_keys::id)
                .first(c)
        })
        .expect("key");
    // Six days from expiry: the 7-day reminder, however often the scan runs.
    let set_expiry = |hours: i64| {
        app.with_conn(|c| {
            diesel::update(api_keys::table.find(id))
                .set(api_keys::expires_at.eq(keyport::db::now() + chrono::Duration::hours(hours)))
                .execute(c)
        })
        .expect("move time");
    };
    let scan = || {
        app.with_conn(|c| reminders::queue_due(c, keyport::db::now()))
            .expect("scan")
    };
    set_expiry(6 * 24);
    assert_eq!(scan(), 1);
    assert_eq!(scan(), 0);
    assert_eq!(scan(), 0);
    send_all(&mailer).await;
    let mails = smtp.wait_for(before + 1);
    assert_eq!(mails.len(), before + 1);
    let reminder = &mails[before];
    check(
        reminder,
        &user,
        "keyport: your API key “Nightly” expires in 7 days",
        &format!("/settings/api-access/keys/{id}"),
        &[&key],
    );
    opens(
        &browser,
        &format!("/settings/api-access/keys/{id}"),
        "Nightly",
    )
    .await;
    // Then the 1-day one, once; and the expired one, once.
    set_expiry(12);
    assert_eq!((scan(), scan()), (1, 0));
    set_expiry(-1);
    assert_eq!((scan(), scan()), (1, 0));
    send_all(&mailer).await;
    let subjects: Vec<String> = smtp
        .wait_for(before + 3)
        .iter()
        .skip(before)
        .map(|m| m.subject())
        .collect();
    assert_eq!(
        subjects,
        [
            "keyport: your API key “Nightly” expires in 7 days",
            "keyport: your API key “Nightly” expires tomorrow",
            "keyport: your API key “Nightly” expired",
        ]
    );

    // Turned off under Notifications: no reminders; security mails still go.
    let (other, other_browser) = app.signed_in(Role::User, "Quinn Quiet").await;
    let page = other_browser.get("/settings/notifications").await;
    assert!(page.contains("Keys that expire soon"));
    let saved = other_browser
        .post(
            "/settings/notifications",
            &[("webhook_alerts", "on"), ("stale_keys", "on")],
        )
        .await;
    assert_eq!(saved.status, 303);
    other_browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let quiet_key = other_browser
        .post(
            "/settings/api-access/keys",
            &[
                ("name", "Quiet"),
                ("access", "read"),
                ("expires_in_days", "3"),
            ],
        )
        .await
        .shown_key();
    assert_eq!(scan(), 0, "no reminder for who turned them off");
    let sent_before = smtp.received().len();
    send_all(&mailer).await;
    let arrived = smtp.wait_for(sent_before + 2);
    let theirs: Vec<String> = arrived
        .iter()
        .filter(|m| m.to == vec![other.email.clone()])
        .map(|m| m.subject())
        .collect();
    assert_eq!(
        theirs,
        [
            "keyport: API Access is on",
            "keyport: a new API key, “Quiet”"
        ]
    );
    assert!(
        !arrived
            .iter()
            .any(|m| String::from_utf8_lossy(&m.raw).contains(&quiet_key))
    );
    let bad = other_browser
        .post("/settings/notifications", &[("webhook_alerts", "yes")])
        .await;
    assert_eq!(bad.status, 422);
}

#[actix_web::test]
async fn a_webhook_failing_for_a_day_and_one_keyport_turns_off_are_mailed_once() {
    use crate::support::Receiver;
    use keyport::config::DeliverySettings;
    use keyport::db::schema::webhooks;
    use keyport::domain::delivery::Worker;

    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (owner, browser) = app.signed_in(Role::User, "Wes Webhooks").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let failing = Receiver::start(&[500, 500, 410]);
    let hook = app
        .api()
        .create_webhook(&key, &failing.url(), "Contact", "Create")
        .await;
    let id = hook["id"].as_i64().expect("id");
    send_all(&mailer).await; // API Access on
    let before = smtp.wait_for(1).len();
    let deliveries = Worker::new(
        app.db.clone(),
        DeliverySettings {
            webhook_allow_private: true,
            webhook_retry_schedule: RetrySchedule(vec![Duration::ZERO; 5]),
            ..DeliverySettings::default()
        },
    )
    .expect("worker");
    // Failing since yesterday: the next failure tells the owner, once for this spell.
    app.api().create_contact(&key, "Fay", "Failing").await;
    app.with_conn(|c| {
        diesel::update(webhooks::table.find(id))
            .set(webhooks::failing_since.eq(keyport::db::now() - chrono::Duration::hours(25)))
            .execute(c)
    })
    .expect("a day of failures");
    assert_eq!(deliveries.deliver_due().await.expect("deliver"), 1); // 500
    assert_eq!(deliveries.deliver_due().await.expect("deliver"), 1); // 500 again: no second mail
    assert_eq!(deliveries.deliver_due().await.expect("deliver"), 1); // 410: turned off
    send_all(&mailer).await;
    let mails = smtp.wait_for(before + 2);
    let subjects: Vec<String> = mails.iter().skip(before).map(|m| m.subject()).collect();
    assert_eq!(
        subjects,
        [
            "keyport: a webhook has been failing for a day",
            "keyport: a webhook was turned off"
        ]
    );
    let path = format!("/settings/api-access/webhooks/{id}");
    check(
        &mails[before],
        &owner,
        "keyport: a webhook has been failing for a day",
        &path,
        &[&key],
    );
    check(
        &mails[before + 1],
        &owner,
        "keyport: a webhook was turned off",
        &path,
        &[&key],
    );
    let text = mails[before + 1].text();
    assert!(
        text.contains("410 Gone") && text.contains(&failing.url()),
        "{text}"
    );
    assert!(text.contains("Last error: answered 410 Gone"), "{text}");
    opens(&browser, &path, &failing.url()).await;
}

#[actix_web::test]
async fn a_sign_in_from_a_new_device_is_mailed_but_not_the_first_or_a_known_one() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (user, first) = app.signed_in(Role::User, "Nia Newdevice").await;
    assert_eq!(send_all(&mailer).await, 0, "a first sign-in is no news");
    // The same browser again (it has the device cookie): nothing.
    first.post("/logout", &[]).await;
    first.sign_in(&user.email, crate::support::PASSWORD).await;
    assert_eq!(send_all(&mailer).await, 0, "a known device");
    // Another browser: the person is told.
    let other = app.browser();
    other.sign_in(&user.email, crate::support::PASSWORD).await;
    assert_eq!(send_all(&mailer).await, 1);
    let mails = smtp.wait_for(1);
    check(
        &mails[0],
        &user,
        "keyport: a sign-in from a new device",
        "/settings/password",
        &[crate::support::PASSWORD],
    );
    assert!(
        mails[0].text().contains("From: 127.0.0.1"),
        "{}",
        mails[0].text()
    );
    opens(&other, "/settings/password", "Password &amp; Sign-in").await;
}

/// `keyport serve` sending mail to `smtp` and looking for due mail every 50 ms.
fn mailing_instance(app: &TestApp, smtp: &SmtpServer) -> Served {
    let url = smtp.url();
    serve_with_env(
        &app.database_url,
        &[],
        &[
            ("KEYPORT_SMTP_URL", url.as_str()),
            ("KEYPORT_PUBLIC_URL", PUBLIC_URL),
            ("KEYPORT_MAIL_POLL", "50ms"),
        ],
    )
}

/// `n` people named `name 0…`, each with a security mail queued (API Access turned on).
fn people_with_a_mail(app: &TestApp, name: &str, n: usize) -> Vec<TestUser> {
    (0..n)
        .map(|i| {
            let person = app.create_user(Role::User, &format!("{name} {i}"));
            let actor = Actor {
                id: person.id,
                ip: None,
            };
            app.with_conn(|c| api_access::enable(c, &actor))
                .expect("enable");
            person
        })
        .collect()
}

fn in_state(app: &TestApp, state: &str) -> i64 {
    app.with_conn(|c| {
        mails::table
            .filter(mails::state.eq(state))
            .count()
            .get_result(c)
    })
    .expect("mails")
}

/// Waits until no mail is pending any more.
async fn until_all_settled(app: &TestApp) {
    let started = std::time::Instant::now();
    loop {
        let pending = in_state(app, "pending");
        if pending == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{pending} mails still pending after 120 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many times each Message-ID arrived, and each recipient got a mail.
fn arrivals(smtp: &SmtpServer) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let (mut per_message, mut per_person) = (HashMap::new(), HashMap::new());
    for mail in smtp.received() {
        *per_message
            .entry(mail.header("Message-ID").expect("Message-ID"))
            .or_default() += 1;
        for to in &mail.to {
            *per_person.entry(to.clone()).or_default() += 1;
        }
    }
    (per_message, per_person)
}

#[actix_web::test]
async fn two_instances_send_each_mail_once() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let people = people_with_a_mail(&app, "Tess Twice", 120);
    let (a, b) = (mailing_instance(&app, &smtp), mailing_instance(&app, &smtp));
    a.wait_until_listening().await;
    b.wait_until_listening().await;
    until_all_settled(&app).await;
    drop((a, b));

    let (per_message, per_person) = arrivals(&smtp);
    assert_eq!(per_person.len(), 120, "every person got their mail");
    for person in &people {
        assert_eq!(per_person.get(&person.email), Some(&1), "{}", person.email);
    }
    assert_eq!(per_message.len(), 120);
    assert!(per_message.values().all(|n| *n == 1), "{per_message:?}");
    let attempts: i64 = app
        .with_conn(|c| mail_attempts::table.count().get_result(c))
        .expect("attempts");
    assert_eq!(
        (in_state(&app, "sent"), attempts),
        (120, 120),
        "one attempt per mail"
    );
}

#[actix_web::test]
async fn kill_9_of_serve_mid_batch_loses_no_mail_and_repeats_only_what_was_in_flight() {
    let app = TestApp::spawn().await;
    // Each mail to a `slow…` address takes the server a quarter of a second to accept, so
    // the kill falls inside a batch.
    let smtp = SmtpServer::start();
    let people = people_with_a_mail(&app, "Slow Sam", 24);
    let mut first = mailing_instance(&app, &smtp);
    first.wait_until_listening().await;
    assert!(smtp.wait_for(3).len() >= 3, "sending started");
    first.kill();

    // What the dead instance had claimed and not settled waits for its lease to run out:
    // the test moves that time in the database instead of waiting ten minutes.
    let now = keyport::db::now();
    let in_flight = app
        .with_conn(|c| {
            diesel::update(
                mails::table
                    .filter(mails::state.eq("pending"))
                    .filter(mails::locked_until.gt(now)),
            )
            .set(mails::locked_until.eq(now - chrono::Duration::seconds(1)))
            .execute(c)
        })
        .expect("the lease runs out");
    assert!(in_flight > 0, "the kill fell inside a batch");

    let second = mailing_instance(&app, &smtp);
    second.wait_until_listening().await;
    until_all_settled(&app).await;
    drop(second);

    let (per_message, per_person) = arrivals(&smtp);
    for person in &people {
        assert!(
            per_person.get(&person.email).is_some_and(|n| *n >= 1),
            "{} got nothing",
            person.email
        );
    }
    let again: usize = per_message.values().map(|n| n - 1).sum();
    assert!(
        again <= in_flight,
        "{again} mails arrived twice; {in_flight} were in flight at the kill"
    );
    assert_eq!(in_state(&app, "sent"), 24, "every mail is recorded as sent");
}

#[actix_web::test]
async fn a_stopped_key_still_in_use_is_mailed_at_most_once_a_day_to_who_wants_it() {
    use keyport::db::schema::stale_key_uses;
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (user, browser) = app.signed_in(Role::User, "Stan Stale").await;
    let old = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let new = browser
        .post("/settings/api-access/regenerate", &[])
        .await
        .shown_key();
    assert_eq!(send_all(&mailer).await, 2, "API Access on, regenerated");
    let before = smtp.wait_for(2).len();
    let old_call = || async { app.api().get_me(&old).await.status().as_u16() };

    assert_eq!(old_call().await, 401);
    assert_eq!(old_call().await, 401);
    assert_eq!(app.flush_usage().await.mails, 1);
    assert_eq!(send_all(&mailer).await, 1);
    let mails = smtp.wait_for(before + 1);
    let mail = &mails[before];
    check(
        mail,
        &user,
        "keyport: your regenerated API key “Default” is still in use",
        "/settings/api-access",
        &[&old, &new],
    );
    let text = mail.text();
    assert!(
        text.contains(&format!(
            "Your regenerated key {}… was still used 2 times since it stopped working",
            &old[..9]
        )),
        "{text}"
    );
    assert!(text.contains("Request: GET /api/v1/me"), "{text}");
    assert!(text.contains("Sent: in the X-Api-Key header"), "{text}");
    opens(&browser, "/settings/api-access", "was still used 2 times").await;

    // Used again the same day: no second mail. A day later: one more.
    assert_eq!(old_call().await, 401);
    assert_eq!(app.flush_usage().await.mails, 0);
    let a_day_ago = keyport::db::now() - chrono::Duration::hours(25);
    let move_time = || {
        app.with_conn(|c| {
            diesel::update(stale_key_uses::table)
                .set(stale_key_uses::mailed_at.eq(a_day_ago))
                .execute(c)
        })
        .expect("move time");
    };
    move_time();
    assert_eq!(old_call().await, 401);
    assert_eq!(app.flush_usage().await.mails, 1);
    assert_eq!(send_all(&mailer).await, 1);

    // Turned off under Notifications: no more of them.
    let saved = browser
        .post(
            "/settings/notifications",
            &[("webhook_alerts", "on"), ("expiry_reminders", "on")],
        )
        .await;
    assert_eq!(saved.status, 303);
    move_time();
    assert_eq!(old_call().await, 401);
    assert_eq!(
        app.flush_usage().await.mails,
        0,
        "who turned them off gets none"
    );
    assert_eq!(send_all(&mailer).await, 0);
}

#[actix_web::test]
async fn the_mail_log_tells_support_what_happened_to_each_mail_but_never_shows_a_body() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let mut people = people_with_a_mail(&app, "Lou Logged", 1);
    people.extend(people_with_a_mail(&app, "Refused Rob", 1));
    assert_eq!(send_all(&mailer).await, 2);
    let (delivered, refused) = (&people[0], &people[1]);

    let (_, support) = app.signed_in(Role::Support, "Sam Support").await;
    let log = support.get("/admin/mail").await;
    assert_eq!(log.status, 200);
    assert!(log.contains(&delivered.email) && log.contains(&refused.email));
    assert!(log.contains("API Access is on"), "subjects are shown");
    assert!(
        log.contains("refused for good: permanent error (550): 5.1.1 No such mailbox here"),
        "{}",
        log.body
    );
    assert!(
        log.contains("250 2.0.0 Message accepted for delivery"),
        "{}",
        log.body
    );
    assert!(
        !log.contains("API Access was turned on for your account"),
        "never a body"
    );

    // Filters: by state and by recipient (case does not matter).
    let failed = support.get("/admin/mail?state=failed").await;
    assert!(failed.contains(&refused.email) && !failed.contains(&delivered.email));
    let to = support
        .get(&format!(
            "/admin/mail?to={}",
            delivered.email.to_uppercase()
        ))
        .await;
    assert!(to.contains(&delivered.email) && !to.contains(&refused.email));
    assert_eq!(support.get("/admin/mail?state=lost").await.status, 400);

    // Only staff read it.
    let (_, user) = app.signed_in(Role::User, "Ulla User").await;
    assert_eq!(user.get("/admin/mail").await.status, 403);
}
