//! Signing in and out, sessions, CSRF and who may see what.

use keyport::models::{ApiKeyRow, Role};

use crate::support::{PASSWORD, TestApp};

#[actix_web::test]
async fn wrong_credentials_get_one_generic_answer() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Wes Wrong");
    let browser = app.browser();
    let wrong_password = browser
        .sign_in(&user.email, "not the password at all")
        .await;
    let unknown_email = browser.sign_in("nobody@example.com", PASSWORD).await;
    for page in [&wrong_password, &unknown_email] {
        assert_eq!(page.status, 401);
        assert!(page.contains("Wrong email or password."));
        assert!(!page.contains("no such user") && !page.contains("not found"));
    }
    // The page is the same but for the email typed back into the form.
    assert_eq!(
        wrong_password
            .body
            .replace(&user.email, "")
            .replace(&browser.token().await, ""),
        unknown_email
            .body
            .replace("nobody@example.com", "")
            .replace(&browser.token().await, "")
    );
    // Email is case-insensitive.
    let page = browser.sign_in(&user.email.to_uppercase(), PASSWORD).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/settings");
}

#[actix_web::test]
async fn sign_in_returns_to_the_page_asked_for_but_never_off_site() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Nia Next");
    let browser = app.browser();
    let page = browser.get("/settings/api-access").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/login?next=%2Fsettings%2Fapi-access");
    browser.get(page.location()).await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", &user.email),
                ("password", PASSWORD),
                ("next", "/settings/api-access"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/settings/api-access");

    let other = app.browser();
    other.get("/login").await;
    let page = other
        .post(
            "/login",
            &[
                ("email", &user.email),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/settings");
}

/// Issue 16, findings 4 and 5: a crafted `next` — a tab or backslash that URL parsers read
/// as `//`, CR/LF, NUL — never sends anyone off-site and never fails the sign-in.
#[actix_web::test]
async fn a_crafted_next_lands_on_the_default_page() {
    let app = TestApp::spawn().await;
    for crafted in [
        "/\t/evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "//evil.example",
        "/\r\nX: 1",
        "/\nX: 1",
        "/\0",
        "https://evil.example/",
    ] {
        // A person each, so the sign-in limits do not count one person's eight sign-ins.
        let user = app.create_user(Role::User, "Cal Crafted");
        // The sign-in page does not carry it into its form.
        let browser = app.browser();
        let encoded: String = url::form_urlencoded::byte_serialize(crafted.as_bytes()).collect();
        let page = browser.get(&format!("/login?next={encoded}")).await;
        assert_eq!(page.status, 200, "{crafted:?}");
        assert!(
            page.contains(r#"name="next" value="/settings""#),
            "{crafted:?}: {}",
            page.body
        );
        // Posted anyway, it signs in and lands on the default page.
        let page = browser
            .post(
                "/login",
                &[
                    ("email", &user.email),
                    ("password", PASSWORD),
                    ("next", crafted),
                ],
            )
            .await;
        assert_eq!(
            (page.status, page.location()),
            (303, "/settings"),
            "{crafted:?}"
        );
        assert_eq!(browser.get("/settings").await.status, 200, "{crafted:?}");
    }
}

/// A raw client that shows cookies, to check what the server does with a copied one.
async fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("keyport_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn sign_in_renews_the_session_and_sign_out_ends_it_on_the_server() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Sol Session");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let login = client
        .get(app.url("/login"))
        .send()
        .await
        .expect("GET /login");
    // The sign-in form stores nothing: no session, only the CSRF cookie its token is signed for.
    assert_eq!(
        session_cookie(&login).await,
        None,
        "a session for a page view"
    );
    let anonymous = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("keyport_csrf="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .expect("a CSRF cookie for the sign-in form");
    let body = login.text().await.expect("body");
    let token = crate::support::csrf_token_in(&body).expect("token");

    let signed_in = client
        .post(app.url("/login"))
        .header("cookie", &anonymous)
        .form(&[
            ("email", user.email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(signed_in.status(), 303);
    let cookie = session_cookie(&signed_in).await.expect("a new session");
    assert_ne!(cookie, anonymous);

    // The pre-sign-in cookie does not carry the signed-in session.
    let old = client
        .get(app.url("/settings"))
        .header("cookie", &anonymous)
        .send()
        .await
        .expect("GET");
    assert_eq!(old.status(), 303);

    let settings = client
        .get(app.url("/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(settings.status(), 200);
    let cookie = session_cookie(&settings).await.unwrap_or(cookie);
    let body = settings.text().await.expect("body");
    let signed_in_token = crate::support::csrf_token_in(&body).expect("token");
    assert_ne!(
        signed_in_token, token,
        "the CSRF token must change at sign-in"
    );

    let out = client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", signed_in_token.as_str())])
        .send()
        .await
        .expect("POST /logout");
    assert_eq!(out.status(), 303);

    // A copy of the cookie taken before signing out no longer works.
    let after = client
        .get(app.url("/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(after.status(), 303);
    assert!(
        after
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.starts_with("/login"))
    );
}

#[actix_web::test]
async fn a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Cy Csrf").await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let clear = format!("/admin/api-management/users/{}/clear", user.id);

    let attempts: Vec<(&crate::support::Browser, &str)> = vec![
        (&browser, "/settings/api-access/enable"),
        (&browser, "/settings/api-access/regenerate"),
        (&browser, "/settings/api-access/disable"),
        (&browser, "/logout"),
        (&admin, &clear),
        (&admin, "/logout"),
    ];
    for (who, path) in attempts {
        for token in [None, Some("wrong-token"), Some("")] {
            let mut fields = vec![];
            if let Some(t) = token {
                fields.push(("csrf_token", t));
            }
            let page = who.post_raw(path, &fields).await;
            assert_eq!(page.status, 403, "{path} with {token:?}");
            assert!(page.contains("did not come from keyport"), "{path}");
        }
    }
    // Nothing changed: the same key works, there is still one key, both are still signed in.
    assert_eq!(app.api().get_me(&key).await.status(), 200);
    let history = app
        .with_conn(|c| ApiKeyRow::history_for_user(c, user.id, 10))
        .expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(browser.get("/settings").await.status, 200);
    assert_eq!(admin.get("/admin/api-management").await.status, 200);

    // A token from another session is no better than none.
    let other = app.browser();
    let foreign = other.token().await;
    let page = browser
        .post_raw(
            "/settings/api-access/regenerate",
            &[("csrf_token", &foreign)],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(app.api().get_me(&key).await.status(), 200);

    // Sign-in itself needs the token.
    let fresh = app.browser();
    let page = fresh
        .post_raw("/login", &[("email", &user.email), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, 403);
}

#[actix_web::test]
async fn roles_are_checked_on_the_server() {
    let app = TestApp::spawn().await;
    let (target, user) = app.signed_in(Role::User, "Una User").await;
    let key = user
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let (_, support) = app.signed_in(Role::Support, "Sam Support").await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let user_page = format!("/admin/api-management/users/{}", target.id);
    let clear = format!("{user_page}/clear");

    // A user gets 403 on every /admin route.
    for path in [
        "/admin/api-management",
        "/admin/api-management?q=a",
        &user_page,
        &clear,
    ] {
        assert_eq!(user.get(path).await.status, 403, "GET {path}");
    }
    assert_eq!(user.post(&clear, &[]).await.status, 403);

    // Support reads, and changes nothing.
    let list = support.get("/admin/api-management").await;
    assert_eq!(list.status, 200);
    assert!(list.contains(&target.email));
    let page = support.get(&user_page).await;
    assert_eq!(page.status, 200);
    assert!(!page.contains("Clear API Key"));
    assert!(!page.contains("method=\"post\" action=\"/admin"));
    assert_eq!(support.get(&clear).await.status, 403);
    let refused = support.post(&clear, &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.api().get_me(&key).await.status(), 200);

    // Admins see Advanced Settings → API Management in the menu; users do not.
    assert!(admin.get("/settings").await.contains("API Management"));
    assert!(support.get("/settings").await.contains("API Management"));
    assert!(!user.get("/settings").await.contains("API Management"));

    // Anonymous: pages redirect to sign-in, the API answers 401.
    let anonymous = app.browser();
    for path in [
        "/settings",
        "/settings/api-access",
        "/admin/api-management",
        &user_page,
    ] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert!(page.location().starts_with("/login?next="), "{path}");
    }
    let page = anonymous.post("/settings/api-access/enable", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(app.api().get("/api/v1/me").await.status(), 401);
}

#[actix_web::test]
async fn bad_form_input_gets_a_clear_error() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.get("/login").await;
    let page = browser
        .post("/login", &[("email", "someone@example.com")])
        .await;
    assert_eq!(page.status, 400);
    assert!(page.contains("The form is not valid"));

    let page = browser.get("/logout").await;
    assert_eq!(page.status, 405);
    assert_eq!(page.header("allow"), "POST");
    assert!(page.contains("does not accept that kind of request"));

    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.contains("There is nothing here."));
}

#[actix_web::test]
async fn an_idle_session_ends_and_the_csrf_token_changes_at_sign_in() {
    use diesel::prelude::*;
    use keyport::db::schema::sessions;

    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Ida Idle");
    let browser = app.browser();
    let before = browser.token().await;
    browser.sign_in(&user.email, PASSWORD).await;
    let after = browser.token().await;
    assert_ne!(before, after, "the CSRF token must change at sign-in");
    assert_eq!(browser.get("/settings").await.status, 200);

    // The idle timeout passes: the server-side session has expired.
    let past = keyport::db::now() - chrono::Duration::minutes(1);
    let expired = app
        .with_conn(|c| {
            diesel::update(sessions::table.filter(sessions::user_id.eq(user.id)))
                .set(sessions::expires_at.eq(past))
                .execute(c)
        })
        .expect("expire the session");
    assert_eq!(expired, 1);
    let page = browser.get("/settings").await;
    assert_eq!(page.status, 303);
    assert!(page.location().starts_with("/login"));
}
