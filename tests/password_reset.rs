//! Forgot password, and an admin's Send password reset: a one-time link by mail (a real SMTP
//! server), valid an hour, that sets a new password and signs out every other session. The
//! answer to "send me a link" is the same, in words and time, for any email.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyport::db::schema::{account_links, audit_events, sign_in_limits};
use keyport::models::{NewUser, Role};

use crate::invitations::link_in_mail;
use crate::support::{Browser, PASSWORD, SmtpServer, TestApp, send_all};

const NEW_PASSWORD: &str = "amber quarry lighthouse";

/// Asks for a link from `browser`'s own address: the status and the page's text (without the
/// CSRF token, which is the browser's own).
async fn ask(browser: &Browser, email: &str) -> (u16, String, Duration) {
    let token = browser.token().await;
    let started = Instant::now();
    let page = browser
        .post_raw(
            "/password-reset",
            &[("email", email), ("csrf_token", &token)],
        )
        .await;
    let took = started.elapsed();
    (page.status, page.body.replace(&token, "TOKEN"), took)
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_once_with_the_mailed_link_and_other_sessions_end() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (rae, elsewhere) = app.signed_in(Role::User, "Rae Reset").await;

    let login = app.browser().get("/login").await;
    assert!(login.contains("href=\"/password-reset\">Forgot password?</a>"));
    let browser = app.browser();
    let form = browser.get("/password-reset").await;
    assert_eq!(form.status, 200);
    let (status, body, _) = ask(&browser, &rae.email.to_uppercase()).await;
    assert_eq!(status, 200);
    assert!(body.contains("If an account exists for that email, we sent a link to it."));

    // The link is made after the answer: wait for it.
    let made = Instant::now();
    while app
        .with_conn(|c| account_links::table.count().get_result::<i64>(c))
        .expect("links")
        == 0
    {
        assert!(made.elapsed() < Duration::from_secs(10), "no link was made");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(send_all(&mailer).await, 1);
    let link = link_in_mail(&smtp, 1, &rae.email, "/password-reset/");
    assert_eq!(smtp.received()[0].subject(), "keyport: reset your password");

    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Choose a new password") && page.contains(&rae.email));
    let done = browser
        .post(
            &link,
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(browser.get("/settings").await.contains("Password changed."));
    // The other session ended; the old password is gone; the new one works.
    assert_eq!(elsewhere.get("/settings").await.status, 303);
    assert_eq!(
        app.browser().sign_in(&rae.email, PASSWORD).await.status,
        401
    );
    assert_eq!(
        app.browser().sign_in(&rae.email, NEW_PASSWORD).await.status,
        303
    );
    // And the "password changed" mail went out.
    send_all(&mailer).await;
    let mails = smtp.wait_for(2);
    assert_eq!(mails[1].subject(), "keyport: your password was changed");

    // Once only.
    assert_eq!(app.browser().get(&link).await.status, 410);
    let replay = app
        .browser()
        .post(
            &link,
            &[
                ("new_password", "a third long password"),
                ("confirm_password", "a third long password"),
            ],
        )
        .await;
    assert_eq!(replay.status, 410);
    assert_eq!(
        app.browser().sign_in(&rae.email, NEW_PASSWORD).await.status,
        303
    );
    let actions: Vec<String> = app
        .with_conn(|c| {
            audit_events::table
                .filter(audit_events::subject_id.eq(rae.id))
                .select(audit_events::action)
                .load(c)
        })
        .expect("audit");
    assert!(actions.contains(&"user.password_reset_requested".to_owned()));
    assert!(actions.contains(&"user.password_reset".to_owned()));
}

#[actix_web::test]
async fn a_link_works_within_its_hour_and_an_admin_can_send_one() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let tim = app.create_user(Role::User, "Tim Timely");
    let person = format!("/admin/people/{}", tim.id);

    let confirm = admin.get(&format!("{person}/password-reset")).await;
    assert!(confirm.contains("Send Tim Timely a password reset link?"));
    let sent = admin.post(&format!("{person}/password-reset"), &[]).await;
    assert_eq!(sent.status, 303);
    assert!(
        admin
            .get(&person)
            .await
            .contains("A password reset link is on its way")
    );
    send_all(&mailer).await;
    let link = link_in_mail(&smtp, 1, &tim.email, "/password-reset/");
    assert!(
        smtp.received()[0]
            .text()
            .contains("An admin sent you a link")
    );
    assert!(smtp.received()[0].text().contains("Ada Admin"));

    // 59 minutes later it still works; past the hour it does not, with a clear page.
    let shift = |minutes: i64| {
        app.with_conn(|c| {
            let at: chrono::NaiveDateTime = account_links::table
                .select(account_links::expires_at)
                .first(c)?;
            diesel::update(account_links::table)
                .set(account_links::expires_at.eq(at - chrono::Duration::minutes(minutes)))
                .execute(c)
        })
        .expect("move time");
    };
    shift(59);
    assert_eq!(app.browser().get(&link).await.status, 200);
    shift(2);
    let late = app.browser().get(&link).await;
    assert_eq!(late.status, 410);
    assert!(late.contains("This link expired on") && late.contains("Forgot password"));
    let refused = app
        .browser()
        .post(
            &link,
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 410);
    assert_eq!(
        app.browser().sign_in(&tim.email, PASSWORD).await.status,
        303,
        "unchanged"
    );
    // A made-up token: the same clear page.
    assert_eq!(
        app.browser().get("/password-reset/made-up").await.status,
        410
    );
}

#[actix_web::test]
async fn the_answer_is_the_same_in_words_and_time_for_a_known_and_an_unknown_email() {
    let app = TestApp::behind_trusted_proxy().await;
    let tries = 25;
    // Known people, one request each (each email may ask three times at once).
    let hash = keyport::domain::accounts::hash_password(PASSWORD).expect("hash");
    let emails: Vec<String> = (0..tries)
        .map(|n| format!("known{n}@example.com"))
        .collect();
    app.with_conn(|c| {
        let rows: Vec<NewUser> = emails
            .iter()
            .map(|email| NewUser {
                email,
                email_normalized: email,
                name: "Known Person",
                password_hash: &hash,
                role: Role::User,
                created_at: keyport::db::now(),
                invited_at: None,
            })
            .collect();
        NewUser::insert_all(c, &rows)
    })
    .expect("people");

    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let mut bodies = std::collections::HashSet::new();
    for (n, known_email) in emails.iter().enumerate() {
        // Each from its own address (each address may ask ten times at once), alternating.
        for (side, email, times) in [
            (1, known_email.clone(), &mut known),
            (2, format!("nobody{n}@example.com"), &mut unknown),
        ] {
            let browser = app.browser_from(&format!("10.1.{n}.{side}"));
            let (status, body, took) = ask(&browser, &email).await;
            assert_eq!(status, 200, "{email}");
            bodies.insert(body.replace(&email, "EMAIL"));
            times.push(took);
            // Let the link of a known email be made before the next request is timed.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
    assert_eq!(bodies.len(), 1, "one answer for every email");
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    // Within noise: the answer's work does not depend on the email (the lookup comes after).
    let gap = known.abs_diff(unknown);
    eprintln!(
        "Forgot password, median answer: {known:?} known, {unknown:?} unknown ({tries} each)"
    );
    assert!(
        gap < Duration::from_millis(25) || gap < unknown.max(known) / 2,
        "median {known:?} for known emails, {unknown:?} for unknown ones"
    );
    // The known got their links; the unknown left nothing behind but the limits' counters.
    let made = Instant::now();
    while app
        .with_conn(|c| account_links::table.count().get_result::<i64>(c))
        .expect("links")
        < tries as i64
    {
        assert!(made.elapsed() < Duration::from_secs(10), "links missing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn asking_too_often_is_throttled_and_disabled_or_invited_accounts_get_no_link() {
    let app = TestApp::behind_trusted_proxy().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let kim = app.create_user(Role::User, "Kim Keen");

    // Per email: three at once, whatever the address.
    for n in 0..3 {
        let (status, _, _) = ask(&app.browser_from(&format!("10.2.0.{n}")), &kim.email).await;
        assert_eq!(status, 200);
    }
    let (status, body, _) = ask(&app.browser_from("10.2.0.9"), &kim.email).await;
    assert_eq!(status, 429);
    assert!(body.contains("Too many password reset requests."));
    // Per address: ten at once, whatever the email.
    let sprayer = app.browser_from("10.3.0.1");
    for n in 0..10 {
        assert_eq!(
            ask(&sprayer, &format!("someone{n}@example.com")).await.0,
            200
        );
    }
    assert_eq!(ask(&sprayer, "one-more@example.com").await.0, 429);
    // Bad input: a clear error, nothing counted.
    let counted: i64 = app
        .with_conn(|c| sign_in_limits::table.count().get_result(c))
        .expect("limits");
    let empty = app.browser_from("10.4.0.1");
    assert_eq!(ask(&empty, "").await.0, 422);
    assert_eq!(ask(&empty, &"x".repeat(300)).await.0, 422);
    assert_eq!(
        app.with_conn(|c| sign_in_limits::table.count().get_result::<i64>(c))
            .expect("limits"),
        counted
    );

    // A disabled account, an invited one: the same answer, no link, no mail.
    let off = app.create_user(Role::User, "Otto Off");
    app.set_disabled(off.id, true);
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    admin
        .post(
            "/admin/people/invitations",
            &[
                ("name", "Ivy Invited"),
                ("email", "ivy@example.com"),
                ("role", "user"),
            ],
        )
        .await;
    send_all(&mailer).await;
    let before = smtp.received().len();
    for (n, email) in [off.email.as_str(), "ivy@example.com"]
        .into_iter()
        .enumerate()
    {
        let (status, body, _) = ask(&app.browser_from(&format!("10.5.0.{n}")), email).await;
        assert_eq!(status, 200);
        assert!(body.contains("If an account exists for that email"));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(send_all(&mailer).await, 0, "no mail for either");
    let links: Vec<(i64, String)> = app
        .with_conn(|c| {
            account_links::table
                .select((account_links::user_id, account_links::purpose))
                .load(c)
        })
        .expect("links");
    assert!(
        links
            .iter()
            .all(|(user, purpose)| purpose == "invitation" || *user == kim.id.0),
        "{links:?}"
    );
    assert_eq!(smtp.received().len(), before);
    // Kim asked three times: three mails, and only the newest link works.
    assert_eq!(before, 4, "three resets for Kim and Ivy's invitation");
}
