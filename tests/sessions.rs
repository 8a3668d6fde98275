//! Sessions end when they should: absolute timeout, password asked again before sensitive
//! changes, accounts turned off, demoted or given a new password, sign out everywhere.

use keyport::domain::audit::By;
use keyport::domain::people;
use keyport::models::{ApiKeyRow, Role};

use crate::support::{PASSWORD, TestApp};

const HOUR: i64 = 3600;

fn active_key_prefix(app: &TestApp, user: keyport::models::UserId) -> Option<String> {
    app.with_conn(|c| ApiKeyRow::active_for_user(c, user))
        .expect("query")
        .map(|k| k.prefix)
}

#[actix_web::test]
async fn a_session_ends_12_hours_after_signing_in_however_active() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Abe Absolute").await;
    app.backdate_sessions(user.id, "signed_in_at", 11 * HOUR);
    assert_eq!(browser.get("/settings/api-access").await.status, 200);
    app.backdate_sessions(user.id, "signed_in_at", HOUR + 1);
    let page = browser.get("/settings/api-access").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/login?next=%2Fsettings%2Fapi-access");
    // Ended on the server, not only refused: signing in again starts afresh.
    assert_eq!(browser.get("/settings").await.status, 303);
    assert_eq!(browser.sign_in(&user.email, PASSWORD).await.status, 303);
    assert_eq!(browser.get("/settings").await.status, 200);
}

#[actix_web::test]
async fn regenerate_and_turn_off_ask_for_the_password_after_15_minutes() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Rex Reauth").await;
    let first = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    // Within 15 minutes of signing in, the confirmation does not ask.
    let confirm = browser.get("/settings/api-access/regenerate").await;
    assert!(!confirm.contains(r#"name="password""#));

    app.backdate_sessions(user.id, "password_at", 16 * 60);
    let confirm = browser.get("/settings/api-access/regenerate").await;
    assert!(confirm.contains("enter your password to confirm it is you"));
    assert!(confirm.contains(r#"name="password""#));
    let before = active_key_prefix(&app, user.id);

    let missing = browser.post("/settings/api-access/regenerate", &[]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.contains("Enter your password to continue."));
    let wrong = browser
        .post(
            "/settings/api-access/regenerate",
            &[("password", "not my password")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.contains("That is not your password."));
    let htmx_wrong = browser
        .post_htmx_form(
            "/settings/api-access/disable",
            &[("password", "still not it")],
        )
        .await;
    assert_eq!(htmx_wrong.status, 422);
    assert!(htmx_wrong.contains("That is not your password."));
    assert!(htmx_wrong.contains("Turn Off API Access?"));
    // Nothing changed: the same key, and it still works.
    assert_eq!(active_key_prefix(&app, user.id), before);
    assert_eq!(app.api().get_me(&first).await.status(), 200);

    let page = browser
        .post("/settings/api-access/regenerate", &[("password", PASSWORD)])
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let second = page.shown_key();
    assert_eq!(app.api().get_me(&first).await.status(), 401);
    assert_eq!(app.api().get_me(&second).await.status(), 200);
    // The password counts as entered now: Turn Off does not ask again.
    let confirm = browser.get("/settings/api-access/disable").await;
    assert!(!confirm.contains(r#"name="password""#));
    let page = browser.post("/settings/api-access/disable", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(app.api().get_me(&second).await.status(), 401);
}

#[actix_web::test]
async fn password_guesses_at_the_confirmation_are_throttled_like_sign_in() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Tia Thief").await;
    browser.post("/settings/api-access/enable", &[]).await;
    app.backdate_sessions(user.id, "password_at", 16 * 60);
    let before = active_key_prefix(&app, user.id);
    // Five guesses at once, as at the sign-in page (this browser, known by its device
    // cookie, has its own allowance).
    for _ in 0..5 {
        let page = browser
            .post(
                "/settings/api-access/regenerate",
                &[("password", "a guess")],
            )
            .await;
        assert_eq!(page.status, 422);
    }
    let page = browser
        .post("/settings/api-access/regenerate", &[("password", PASSWORD)])
        .await;
    assert_eq!(page.status, 429);
    assert!(page.header("retry-after").parse::<u64>().is_ok());
    assert!(page.contains("Too many password attempts. Try again in"));
    assert_eq!(active_key_prefix(&app, user.id), before);
}

#[actix_web::test]
async fn a_turned_off_account_loses_its_sessions_its_key_and_sign_in() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Dee Disabled").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    app.set_disabled(user.id, true);
    assert_eq!(browser.get("/settings/api-access").await.status, 303);
    assert_eq!(app.api().get_me(&key).await.status(), 401);
    let page = app.browser().sign_in(&user.email, PASSWORD).await;
    assert_eq!(page.status, 403);
    assert!(page.contains("This account is turned off."));
    // A wrong password does not learn that the account is off.
    let page = app.browser().sign_in(&user.email, "not the password").await;
    assert_eq!(page.status, 401);
    assert!(page.contains("Wrong email or password."));

    app.set_disabled(user.id, false);
    assert_eq!(app.api().get_me(&key).await.status(), 200);
    assert_eq!(
        app.browser().sign_in(&user.email, PASSWORD).await.status,
        303
    );
}

#[actix_web::test]
async fn a_demoted_admin_loses_admin_rights_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (admin, browser) = app.signed_in(Role::Admin, "Dom Demoted").await;
    assert_eq!(browser.get("/admin/api-management").await.status, 200);
    // (Another admin stays: keyport keeps at least one.)
    app.create_user(Role::Admin, "Ann Other");
    app.with_conn(|c| people::change_role(c, By::CommandLine, admin.id, Role::User))
        .expect("demote");
    assert_eq!(browser.get("/admin/api-management").await.status, 403);
    let (target, _) = app.user_with_key("Tom Target").await;
    let page = browser
        .post(
            &format!("/admin/api-management/users/{}/clear", target.id),
            &[("reason", "no longer an admin")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(active_key_prefix(&app, target.id).is_some());
}

#[actix_web::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = TestApp::spawn().await;
    let (user, here) = app.signed_in(Role::User, "Pat Password").await;
    let elsewhere = app.browser();
    assert_eq!(elsewhere.sign_in(&user.email, PASSWORD).await.status, 303);
    let new_password = "a brand new passphrase for Pat";

    let page = here.get("/settings/password").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Change password"));
    let refusals = [
        (
            "wrong current password",
            new_password,
            new_password,
            "Current password: that is not your password.",
        ),
        (
            PASSWORD,
            new_password,
            "something else entirely",
            "New password: the two entries differ.",
        ),
        (
            PASSWORD,
            "qwerty123456",
            "qwerty123456",
            "this password is on a list of common passwords",
        ),
        (
            PASSWORD,
            "too short",
            "too short",
            "Password: use 12 to 1024 characters.",
        ),
    ];
    for (current, new, again, message) in refusals {
        let page = here
            .post(
                "/settings/password",
                &[
                    ("current_password", current),
                    ("new_password", new),
                    ("confirm_password", again),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{message}");
        assert!(page.contains(message), "{message}: {}", page.body);
    }
    assert_eq!(elsewhere.get("/settings").await.status, 200);

    let page = here
        .post(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
                ("confirm_password", new_password),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = here.get(page.location()).await;
    assert!(page.contains("Password changed."));
    assert_eq!(here.get("/settings").await.status, 200);
    assert_eq!(elsewhere.get("/settings").await.status, 303);
    assert_eq!(
        app.browser().sign_in(&user.email, PASSWORD).await.status,
        401
    );
    assert_eq!(
        app.browser()
            .sign_in(&user.email, new_password)
            .await
            .status,
        303
    );
}

#[actix_web::test]
async fn sign_out_everywhere_ends_every_session() {
    let app = TestApp::spawn().await;
    let (user, here) = app.signed_in(Role::User, "Eve Everywhere").await;
    let elsewhere = app.browser();
    assert_eq!(elsewhere.sign_in(&user.email, PASSWORD).await.status, 303);
    let page = here.post("/settings/sign-out-everywhere", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/login");
    let login = here.get("/login").await;
    assert!(login.contains("You have been signed out everywhere"));
    assert_eq!(here.get("/settings").await.status, 303);
    assert_eq!(elsewhere.get("/settings").await.status, 303);
}

/// Browsing reads: a page view writes nothing back to the session (the idle expiry is moved
/// at most once a minute), so pages on SQLite never wait for the one write lock.
#[actix_web::test]
async fn browsing_does_not_write_the_session_back() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Bo Browser").await;
    // A trigger counts every write to a session row from here on.
    let counter = if app.database_url.starts_with("postgres") {
        "CREATE TABLE session_writes (n BIGINT NOT NULL); INSERT INTO session_writes VALUES (0);
         CREATE FUNCTION count_session_write() RETURNS trigger AS $$
           BEGIN UPDATE session_writes SET n = n + 1; RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER session_written AFTER UPDATE ON sessions
           FOR EACH ROW EXECUTE FUNCTION count_session_write();"
    } else {
        "CREATE TABLE session_writes (n INTEGER NOT NULL); INSERT INTO session_writes VALUES (0);
         CREATE TRIGGER session_written AFTER UPDATE ON sessions
           BEGIN UPDATE session_writes SET n = n + 1; END;"
    };
    app.with_conn(|c| c.batch_execute(counter))
        .expect("trigger");
    for path in [
        "/settings",
        "/settings/api-access",
        "/admin/api-management",
        "/settings/api-access",
        "/docs/api",
    ] {
        assert_eq!(admin.get(path).await.status, 200, "{path}");
    }
    let session_writes = || -> i64 {
        app.with_conn(|c| {
            use diesel::prelude::*;
            diesel::sql_query("SELECT n FROM session_writes")
                .get_result::<Writes>(c)
                .expect("count")
                .n
        })
    };
    let writes = session_writes();
    assert_eq!(writes, 0, "page views wrote the session back");
    // A change still writes: Clear API Key leaves a flash for the next page, which drops it.
    let (someone, _) = app.user_with_key("Cy Cleared").await;
    let cleared = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", someone.id),
            &[("reason", "")],
        )
        .await;
    assert_eq!(cleared.status, 303, "{}", cleared.body);
    let shown = admin.get(cleared.location()).await;
    assert!(shown.contains("API key cleared."));
    let after = session_writes();
    assert!(
        after >= 2,
        "the flash was written, then its removal: {after}"
    );
}

#[derive(diesel::QueryableByName)]
struct Writes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Issue 16, finding 7: a page view without an account stores nothing, so anyone cannot fill
/// the database; the sign-in form still works from its CSRF cookie.
#[actix_web::test]
async fn anonymous_page_views_store_no_session() {
    use diesel::prelude::*;
    use keyport::db::schema::sessions;
    let app = TestApp::spawn().await;
    let count = || {
        app.with_conn(|c| sessions::table.count().get_result::<i64>(c))
            .expect("count")
    };
    let before = count();
    let client = reqwest::Client::new();
    for n in 0..100 {
        let path = [
            "/login",
            "/docs/api",
            "/login?next=/settings",
            "/no-such-page",
        ][n % 4];
        let res = client.get(app.url(path)).send().await.expect("GET");
        assert!(res.status().as_u16() < 500, "{path}");
    }
    assert_eq!(count(), before, "anonymous page views added session rows");

    // A person signing in gets exactly one.
    let user = app.create_user(Role::User, "Ana Nonymous");
    assert_eq!(
        app.browser().sign_in(&user.email, PASSWORD).await.status,
        303
    );
    assert_eq!(count(), before + 1);
}
