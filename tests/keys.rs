//! Keys part 2: several named keys with scopes and expiry, Regenerate New Key with a grace
//! time, Retire Now, Delete Key, the admin's Clear Key, and the key policy — through the pages
//! a person uses and the API a program calls.

use diesel::prelude::*;
use futures_util::future::join_all;
use keyport::db::schema::{api_keys, contacts};
use keyport::models::{ApiKeyRow, Role, UserId};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Browser, TestApp, TestUser};

/// A person with API Access on (its `Default` key returned) and their browser.
async fn with_access(app: &TestApp, name: &str) -> (TestUser, Browser, String) {
    let (user, browser) = app.signed_in(Role::User, name).await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    (user, browser, key)
}

/// Create New Key with these fields; the key, shown once.
async fn create_key(browser: &Browser, fields: &[(&str, &str)]) -> String {
    let page = browser.post("/settings/api-access/keys", fields).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), "no-store");
    page.shown_key()
}

/// The id of the user's live key with this prefix.
fn key_id(app: &TestApp, user: UserId, key: &str) -> i64 {
    app.with_conn(|c| ApiKeyRow::live_for_user(c, user, keyport::db::now()))
        .expect("keys")
        .into_iter()
        .find(|k| key.starts_with(&k.prefix))
        .expect("the key is live")
        .id
}

fn contact_count(app: &TestApp) -> i64 {
    app.with_conn(|c| contacts::table.count().get_result(c))
        .expect("count")
}

#[actix_web::test]
async fn keys_do_only_what_their_scopes_allow() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, browser, full) = with_access(&app, "Sam Scopes").await;

    // Read-only: reads everything, writes nothing, and says which scope a write needs.
    let reader = create_key(&browser, &[("name", "Reader"), ("access", "read")]).await;
    assert_eq!(
        api.call(&reader, Method::GET, "/api/v1/contacts", None)
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(&reader, Method::GET, "/api/v1/webhooks", None)
            .await
            .0,
        200
    );
    let before = contact_count(&app);
    let (status, body) = api
        .call(
            &reader,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "No", "last_name": "Write"})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "this key may not write contacts");
    assert_eq!(body["required_scope"], "contacts:write");
    assert_eq!(
        contact_count(&app),
        before,
        "a refused write changes nothing"
    );

    // Custom: contacts write, jobs none, webhooks read.
    let custom = create_key(
        &browser,
        &[
            ("name", "Contacts sync"),
            ("access", "custom"),
            ("scope_contacts", "write"),
            ("scope_companies", "read"),
            ("scope_jobs", "none"),
            ("scope_webhooks", "read"),
        ],
    )
    .await;
    let contact = api.create_contact(&custom, "Cara", "Custom").await;
    let id = contact["id"].as_i64().expect("id");
    let (status, _) = api
        .call(
            &custom,
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"last_name": "Changed"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = api.call(&custom, Method::GET, "/api/v1/jobs", None).await;
    assert_eq!(
        (status, body["required_scope"].as_str()),
        (403, Some("jobs:read"))
    );
    let (status, body) = api
        .call(
            &custom,
            Method::POST,
            "/api/v1/companies",
            Some(json!({"name": "Nope Ltd"})),
        )
        .await;
    assert_eq!(
        (status, body["required_scope"].as_str()),
        (403, Some("companies:write"))
    );
    assert_eq!(
        api.call(&custom, Method::GET, "/api/v1/webhooks", None)
            .await
            .0,
        200
    );
    let (status, body) = api
        .call(&custom, Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://hooks.example.com/x", "entity": "Contact", "operation_type": "Create"})))
        .await;
    assert_eq!(
        (status, body["required_scope"].as_str()),
        (403, Some("webhooks:write"))
    );
    let (status, body) = api
        .call(
            &custom,
            Method::DELETE,
            &format!("/api/v1/contacts/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // /me needs no scope and describes the key.
    let (status, me) = api.call(&custom, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["key"]["name"], "Contacts sync");
    assert_eq!(me["key"]["prefix"].as_str(), Some(&custom[..9]));
    assert_eq!(
        me["key"]["scopes"],
        json!(["contacts:write", "companies:read", "webhooks:read"])
    );
    assert_eq!(me["key"]["expires_at"], Value::Null);
    let (_, me) = api.call(&full, Method::GET, "/api/v1/me", None).await;
    assert_eq!(me["key"]["name"], "Default");
    assert_eq!(
        me["key"]["scopes"],
        json!([
            "contacts:write",
            "companies:write",
            "jobs:write",
            "webhooks:write"
        ])
    );

    // The API Access page lists all three, with their access.
    let page = browser.get("/settings/api-access").await;
    for text in [
        "Default",
        "Reader",
        "Read-only",
        "Contacts sync",
        "Contacts: write, Companies: read, Webhooks: read",
    ] {
        assert!(page.contains(text), "{text} missing");
    }
}

#[actix_web::test]
async fn a_bad_new_key_is_refused_with_a_reason_and_nothing_is_made() {
    let app = TestApp::spawn().await;
    let (user, browser, _) = with_access(&app, "Nora Names").await;
    create_key(&browser, &[("name", "CI"), ("access", "full")]).await;
    let live = || {
        app.with_conn(|c| ApiKeyRow::live_for_user(c, user.id, keyport::db::now()))
            .expect("keys")
            .len()
    };
    assert_eq!(live(), 2);
    let long = "n".repeat(61);
    for (fields, reason) in [
        (
            vec![("name", "CI"), ("access", "full")],
            "you already have a key named “CI”",
        ),
        (
            vec![("name", "  "), ("access", "full")],
            "give the key a name",
        ),
        (
            vec![("name", long.as_str()), ("access", "full")],
            "at most 60",
        ),
        (
            vec![("name", "X"), ("access", "root")],
            "choose full, read or custom",
        ),
        (vec![("name", "X"), ("access", "custom")], "at least one of"),
        (
            vec![("name", "X"), ("access", "custom"), ("scope_jobs", "admin")],
            "Jobs: choose none, read or write",
        ),
        (
            vec![("name", "X"), ("access", "full"), ("expires_in_days", "0")],
            "choose 1 to 3650 days",
        ),
        (
            vec![
                ("name", "X"),
                ("access", "full"),
                ("expires_in_days", "soon"),
            ],
            "enter a number of days",
        ),
    ] {
        let page = browser.post("/settings/api-access/keys", &fields).await;
        assert_eq!(page.status, 422, "{fields:?}: {}", page.body);
        assert!(page.contains(reason), "{fields:?}: expected {reason}");
        assert!(
            !page.body.contains("id=\"new-key\""),
            "{fields:?} showed a key"
        );
    }
    assert_eq!(live(), 2, "nothing was made");
}

#[actix_web::test]
async fn two_keys_are_revoked_alone_and_a_regenerated_key_retires_after_its_grace() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (user, browser, default) = with_access(&app, "Gus Grace").await;
    let other = create_key(&browser, &[("name", "Other"), ("access", "full")]).await;

    // Delete Key: that key alone fails.
    let other_id = key_id(&app, user.id, &other);
    let confirm = browser
        .get(&format!("/settings/api-access/keys/{other_id}/delete"))
        .await;
    assert!(confirm.contains("Delete Key?"));
    let page = browser
        .post(&format!("/settings/api-access/keys/{other_id}/delete"), &[])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(api.get_me(&other).await.status(), 401);
    assert_eq!(api.get_me(&default).await.status(), 200);

    // Regenerate New Key with an hour's grace: both work, the old one shows as Retiring.
    let old_id = key_id(&app, user.id, &default);
    let page = browser
        .post(
            &format!("/settings/api-access/keys/{old_id}/regenerate"),
            &[("grace", "1h")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.contains("keeps working for 1 hour"));
    let new = page.shown_key();
    assert_eq!(api.get_me(&default).await.status(), 200);
    assert_eq!(api.get_me(&new).await.status(), 200);
    let list = browser.get("/settings/api-access").await;
    assert!(list.contains("Retiring"));
    // The successor inherits name and access.
    let (_, me) = api.call(&new, Method::GET, "/api/v1/me", None).await;
    assert_eq!(me["key"]["name"], "Default");

    // Retire Now: the old one fails at once, the new one goes on.
    let confirm = browser
        .get(&format!("/settings/api-access/keys/{old_id}/retire"))
        .await;
    assert!(confirm.contains("Retire Now?"));
    let page = browser
        .post(&format!("/settings/api-access/keys/{old_id}/retire"), &[])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(api.get_me(&default).await.status(), 401);
    assert_eq!(api.get_me(&new).await.status(), 200);

    // A grace that ends (time moved in the database): the old key fails like any revoked key.
    let new_id = key_id(&app, user.id, &new);
    let newer = browser
        .post(
            &format!("/settings/api-access/keys/{new_id}/regenerate"),
            &[("grace", "24h")],
        )
        .await
        .shown_key();
    assert_eq!(api.get_me(&new).await.status(), 200);
    app.with_conn(|c| {
        diesel::update(api_keys::table.find(new_id))
            .set(api_keys::retires_at.eq(keyport::db::now() - chrono::Duration::seconds(1)))
            .execute(c)
    })
    .expect("end the grace");
    let ended = api.get_me(&new).await;
    assert_eq!(ended.status(), 401);
    let revoked = api.get_me(&default).await;
    let (ended, revoked): (Value, Value) = (
        ended.json().await.expect("json"),
        revoked.json().await.expect("json"),
    );
    assert_eq!(ended["error"], revoked["error"]);
    assert_eq!(api.get_me(&newer).await.status(), 200);
    // A retired key cannot be regenerated again.
    let again = browser
        .post(
            &format!("/settings/api-access/keys/{old_id}/regenerate"),
            &[],
        )
        .await;
    assert_eq!(again.status, 409);
}

#[actix_web::test]
async fn an_expired_key_says_when_it_expired() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (user, browser, _) = with_access(&app, "Eve Expiry").await;
    let key = create_key(
        &browser,
        &[
            ("name", "Short"),
            ("access", "read"),
            ("expires_in_days", "1"),
        ],
    )
    .await;
    let (_, me) = api.call(&key, Method::GET, "/api/v1/me", None).await;
    assert!(me["key"]["expires_at"].as_str().is_some(), "{me}");
    let id = key_id(&app, user.id, &key);
    let past = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
        .and_then(|d| d.and_hms_opt(3, 4, 5))
        .expect("time");
    app.with_conn(|c| {
        diesel::update(api_keys::table.find(id))
            .set(api_keys::expires_at.eq(past))
            .execute(c)
    })
    .expect("expire");
    let (status, body) = api.call(&key, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"],
        "this API key expired at 2026-01-02T03:04:05Z"
    );
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("Expired"));
}

/// An admin saves the key policy through its page.
async fn save_policy(admin: &Browser, fields: &[(&str, &str)]) {
    let page = admin.post("/admin/api-management/policy", fields).await;
    assert_eq!(page.status, 303, "{}", page.body);
}

#[actix_web::test]
async fn the_key_policy_bounds_expiry_and_how_many_keys() {
    let app = TestApp::spawn().await;
    let (pat, admin) = app.signed_in(Role::Admin, "Pat Policy").await;
    let (user, browser, old_default) = with_access(&app, "Kim Keys").await;
    save_policy(
        &admin,
        &[
            ("max_lifetime_days", "30"),
            ("require_expiry", "on"),
            ("max_keys_per_user", "2"),
            ("who_may_enable", "everyone"),
        ],
    )
    .await;
    let count = || {
        app.with_conn(|c| ApiKeyRow::live_for_user(c, user.id, keyport::db::now()))
            .expect("keys")
            .len()
    };

    // "Never" is refused with the maximum named; so is a longer lifetime.
    let page = browser
        .post(
            "/settings/api-access/keys",
            &[("name", "Forever"), ("access", "full")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.contains("requires every key to expire: choose 1 to 30 days"),
        "{}",
        page.body
    );
    let page = browser
        .post(
            "/settings/api-access/keys",
            &[
                ("name", "Long"),
                ("access", "full"),
                ("expires_in_days", "31"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("at most 30 days"));
    assert_eq!(count(), 1);
    create_key(
        &browser,
        &[
            ("name", "Month"),
            ("access", "full"),
            ("expires_in_days", "30"),
        ],
    )
    .await;
    // The third key is over the maximum of two.
    let page = browser
        .post(
            "/settings/api-access/keys",
            &[
                ("name", "Third"),
                ("access", "full"),
                ("expires_in_days", "3"),
            ],
        )
        .await;
    assert_eq!(page.status, 409);
    assert!(page.contains("the most this keyport allows"));
    assert_eq!(count(), 2);

    // The policy page lists the key made before the change that never expires, with its owner.
    let policy = admin.get("/admin/api-management/policy").await;
    assert!(policy.contains(&format!("{}…", &old_default[..9])));
    assert!(policy.contains("Kim Keys"));
    // Keys in links: turned off by the policy.
    save_policy(
        &admin,
        &[("max_keys_per_user", "10"), ("who_may_enable", "everyone")],
    )
    .await;
    let response = app
        .api()
        .get_me_via(&old_default, crate::support::KeyIn::Query)
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.api().get_me(&old_default).await.status(), 200);

    // Every change is in the audit trail, saying what the policy now is.
    let trail = admin
        .get(&format!("/admin/api-management/users/{}", pat.id))
        .await;
    assert!(trail.contains("Changed the key policy"));
    assert!(trail.contains("max lifetime 30 days, expiry required, at most 2 keys per person"));

    // Bad policies are refused; support staff read the page and cannot save it.
    let page = admin
        .post(
            "/admin/api-management/policy",
            &[("max_keys_per_user", "0"), ("who_may_enable", "everyone")],
        )
        .await;
    assert_eq!(page.status, 422);
    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;
    assert_eq!(
        support.get("/admin/api-management/policy").await.status,
        200
    );
    let page = support
        .post(
            "/admin/api-management/policy",
            &[("max_keys_per_user", "5"), ("who_may_enable", "everyone")],
        )
        .await;
    assert_eq!(page.status, 403);
}

#[actix_web::test]
async fn only_allowed_people_may_turn_on_api_access_when_the_policy_says_so() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Allow").await;
    save_policy(
        &admin,
        &[("max_keys_per_user", "10"), ("who_may_enable", "allowed")],
    )
    .await;
    let (user, browser) = app.signed_in(Role::User, "Nat Notyet").await;
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("see this area, contact your admin"));
    assert!(!page.contains("Enable API Access</button>"));
    assert_eq!(
        browser
            .post("/settings/api-access/enable", &[])
            .await
            .status,
        403
    );

    let user_page = format!("/admin/api-management/users/{}", user.id);
    assert_eq!(
        admin.post(&format!("{user_page}/allow"), &[]).await.status,
        303
    );
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("Enable API Access</button>"));
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    assert_eq!(app.api().get_me(&key).await.status(), 200);
    let audit = admin.get(&user_page).await;
    assert!(audit.contains("Allowed API Access"));
}

#[actix_web::test]
async fn clear_key_clears_one_and_clear_api_key_clears_all() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (user, browser, default) = with_access(&app, "Cal Clear").await;
    let second = create_key(&browser, &[("name", "Second"), ("access", "read")]).await;
    let third = create_key(&browser, &[("name", "Third"), ("access", "read")]).await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let user_page = format!("/admin/api-management/users/{}", user.id);
    let page = admin.get(&user_page).await;
    for text in ["Second", "Third", "Read-only", "Clear Key"] {
        assert!(page.contains(text), "{text}");
    }
    let list = admin.get("/admin/api-management").await;
    assert!(list.contains("3 keys"));

    let second_id = key_id(&app, user.id, &second);
    let clear = format!("{user_page}/keys/{second_id}/clear");
    assert!(admin.get(&clear).await.contains("Clear Key?"));
    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;
    assert_eq!(support.post(&clear, &[("reason", "no")]).await.status, 403);
    assert_eq!(
        api.get_me(&second).await.status(),
        200,
        "support changed nothing"
    );
    assert_eq!(
        admin
            .post(&clear, &[("reason", "leaked in a log")])
            .await
            .status,
        303
    );
    assert_eq!(api.get_me(&second).await.status(), 401);
    assert_eq!(api.get_me(&default).await.status(), 200);
    assert_eq!(api.get_me(&third).await.status(), 200);
    let trail = admin.get(&user_page).await;
    assert!(trail.contains("Cleared a key"));
    assert!(
        trail.contains(&format!(
            "Second ({}); reason: leaked in a log",
            &second[..9]
        )),
        "the audit event names the key and its prefix"
    );

    assert_eq!(
        admin.post(&format!("{user_page}/clear"), &[]).await.status,
        303
    );
    assert_eq!(api.get_me(&default).await.status(), 401);
    assert_eq!(api.get_me(&third).await.status(), 401);
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("API Access is <strong>off</strong>"));
}

#[actix_web::test]
async fn twenty_concurrent_regenerates_with_a_grace_leave_one_new_key_and_one_retiring() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (user, browser, original) = with_access(&app, "Reg Racer").await;
    let id = key_id(&app, user.id, &original);
    let path = format!("/settings/api-access/keys/{id}/regenerate");
    let pages = join_all((0..20).map(|_| browser.post(&path, &[("grace", "1h")]))).await;
    let made: Vec<String> = pages
        .iter()
        .filter(|p| p.status == 200)
        .map(|p| p.shown_key())
        .collect();
    assert_eq!(
        made.len(),
        1,
        "statuses: {:?}",
        pages.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    assert!(pages.iter().all(|p| p.status == 200 || p.status == 409));
    let live = app
        .with_conn(|c| ApiKeyRow::live_for_user(c, user.id, keyport::db::now()))
        .expect("keys");
    assert_eq!(live.len(), 2);
    assert_eq!(live.iter().filter(|k| k.retires_at.is_some()).count(), 1);
    assert_eq!(api.get_me(&original).await.status(), 200);
    assert_eq!(api.get_me(&made[0]).await.status(), 200);
}

/// Runs the shipped migrations named before `before`, as an older keyport left the database.
fn migrate_before<DB, C>(conn: &mut C, dir: &str, before: &str)
where
    DB: diesel::backend::Backend,
    C: diesel_migrations::MigrationHarness<DB>,
    diesel_migrations::FileBasedMigrations: diesel::migration::MigrationSource<DB>,
{
    use diesel::migration::MigrationSource;
    let source = || diesel_migrations::FileBasedMigrations::from_path(dir).expect("migrations");
    // (Asking what is pending makes diesel's table of run migrations.)
    conn.pending_migrations(source()).expect("set up");
    let mut all = source().migrations().expect("read migrations");
    all.sort_by_key(|m| m.name().to_string());
    for migration in all
        .iter()
        .filter(|m| m.name().to_string().as_str() < before)
    {
        conn.run_migration(migration.as_ref())
            .expect("an older migration");
    }
}

#[actix_web::test]
async fn a_key_made_before_named_keys_keeps_working_as_the_default_key() {
    use keyport::db::schema::users;
    use keyport::db::{DatabaseUrl, Db, DbConnection};
    use keyport::domain::api_access::{self, ApiAccess, KeyCheck};
    use keyport::domain::keys::ApiKey;

    let empty = crate::support::empty_database();
    let db = Db::connect(&DatabaseUrl::parse(&empty.url).expect("URL"), 1).expect("connect");
    let key = ApiKey::generate();
    let (kept, cleared) = {
        let mut conn = db.get().expect("conn");
        let named_keys = "2026-11-29-000006";
        match &mut *conn {
            DbConnection::Sqlite(c) => migrate_before(c, "migrations/sqlite", named_keys),
            DbConnection::Postgresql(c) => migrate_before(c, "migrations/postgres", named_keys),
        }
        let then = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("time");
        let mut person = |email: &str| -> UserId {
            diesel::insert_into(users::table)
                .values((
                    users::email.eq(email),
                    users::email_normalized.eq(email),
                    users::name.eq("Olga Older"),
                    users::password_hash.eq("not a hash"),
                    users::role.eq("user"),
                    users::created_at.eq(then),
                ))
                .returning(users::id)
                .get_result(&mut *conn)
                .expect("user")
        };
        let (kept, cleared) = (person("kept@example.com"), person("cleared@example.com"));
        // The old shape: no name, no access, one active key per user.
        for (user, hash, revoked) in [
            (kept, key.hash(), false),
            (cleared, ApiKey::generate().hash(), true),
        ] {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::user_id.eq(user),
                    api_keys::prefix.eq(&key.prefix()[..9]),
                    api_keys::key_hash.eq(hash.to_vec()),
                    api_keys::created_at.eq(then),
                    api_keys::revoked_at.eq(revoked.then_some(then)),
                    api_keys::revoked_reason.eq(revoked.then_some("cleared")),
                ))
                .execute(&mut *conn)
                .expect("an old key");
        }
        (kept, cleared)
    };

    db.migrate().expect("migrate to named keys");
    let mut conn = db.get().expect("conn");
    let person = |conn: &mut DbConnection, id: UserId| {
        keyport::models::User::find(conn, id)
            .expect("read")
            .expect("the user")
    };
    let (kept_user, cleared_user) = (person(&mut conn, kept), person(&mut conn, cleared));
    match api_access::authenticate(&mut conn, &key, None, None).expect("check") {
        KeyCheck::Valid(user, found) => {
            assert_eq!(user.id, kept);
            assert_eq!(found.name, "Default");
            assert_eq!(found.access, keyport::domain::scopes::Access::Full);
            assert_eq!(found.expires_at, None);
        }
        other => panic!("the old key no longer works: {other:?}"),
    }
    assert!(matches!(
        api_access::state(&mut conn, &kept_user).expect("state"),
        ApiAccess::On { keys, .. } if keys.len() == 1
    ));
    assert!(matches!(
        api_access::state(&mut conn, &cleared_user).expect("state"),
        ApiAccess::Off { last: Some(_) }
    ));
}

#[actix_web::test]
async fn a_webhook_sends_while_api_access_is_on_whatever_happens_to_the_key_that_made_it() {
    use keyport::config::DeliverySettings;
    use keyport::domain::delivery::Worker;

    let app = TestApp::spawn().await;
    let receiver = crate::support::Receiver::start(&[]);
    let (user, browser, default) = with_access(&app, "Hal Hooks").await;
    let maker = create_key(&browser, &[("name", "Hook maker"), ("access", "full")]).await;
    app.api()
        .create_webhook(&maker, &receiver.url(), "Contact", "Create")
        .await;
    let maker_id = key_id(&app, user.id, &maker);
    let deleted = browser
        .post(&format!("/settings/api-access/keys/{maker_id}/delete"), &[])
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(app.api().get_me(&maker).await.status(), 401);

    app.api().create_contact(&default, "Still", "Sent").await;
    let settings = DeliverySettings {
        webhook_allow_private: true,
        ..DeliverySettings::default()
    };
    let worker = Worker::new(app.db.clone(), settings).expect("worker");
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    assert_eq!(receiver.arrived(), 1);
}

/// A body each resource's POST and PATCH accept, so that only the scope can refuse them.
fn valid_body(resource: &str) -> Value {
    match resource {
        "contacts" => json!({"first_name": "Scope", "last_name": "Check"}),
        "companies" => json!({"name": "Scope Check Ltd"}),
        "jobs" => json!({"title": "Scope checker"}),
        "webhooks" => {
            json!({"url": "https://hooks.example.com/scope", "entity": "Contact", "operation_type": "Create"})
        }
        other => panic!("no body for {other}"),
    }
}

#[actix_web::test]
async fn every_operation_declares_the_scope_it_needs_and_a_key_without_it_is_refused() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, browser, _) = with_access(&app, "Olly Openapi").await;
    // Two keys that each lack what the other has.
    let webhooks_only = create_key(
        &browser,
        &[
            ("name", "Webhooks only"),
            ("access", "custom"),
            ("scope_webhooks", "write"),
        ],
    )
    .await;
    let contacts_only = create_key(
        &browser,
        &[
            ("name", "Contacts only"),
            ("access", "custom"),
            ("scope_contacts", "write"),
        ],
    )
    .await;
    let doc: Value = api
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("the document");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let resource = path
                .trim_start_matches("/api/v1/")
                .split('/')
                .next()
                .unwrap_or_default();
            if matches!(resource, "me" | "openapi.json") {
                assert!(
                    operation
                        .get("security")
                        .is_none_or(|s| s.as_array().is_some_and(|s| s.iter().all(|r| r
                            .as_object()
                            .is_none_or(|r| r.values().all(|v| v == &json!([])))))),
                    "{method} {path} needs no scope: {operation}"
                );
                continue;
            }
            let level = if method == "get" { "read" } else { "write" };
            let scope = format!("{resource}:{level}");
            let security = operation["security"].as_array().expect("security");
            assert_eq!(
                security.len(),
                3,
                "{method} {path}: one requirement per way to send the key"
            );
            for requirement in security {
                let scopes: Vec<&Value> = requirement
                    .as_object()
                    .expect("requirement")
                    .values()
                    .collect();
                assert_eq!(scopes, vec![&json!([scope])], "{method} {path}");
            }
            // The server refuses a key without that scope, naming it.
            let key = if resource == "webhooks" {
                &contacts_only
            } else {
                &webhooks_only
            };
            let body = matches!(method.as_str(), "post" | "patch").then(|| valid_body(resource));
            let method_ = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let (status, answer) = api
                .call(key, method_, &path.replace("{id}", "1"), body)
                .await;
            assert_eq!(status, 403, "{method} {path}: {answer}");
            assert_eq!(answer["required_scope"], scope.as_str(), "{method} {path}");
            checked += 1;
        }
    }
    assert_eq!(checked, 20, "five operations on each of four resources");

    // The guide's endpoint reference names each scope, and explains keys and scopes.
    let guide = browser.get("/docs/api").await;
    assert!(guide.contains("Keys, scopes and expiry"));
    for scope in [
        "contacts:read",
        "companies:write",
        "jobs:read",
        "webhooks:write",
    ] {
        assert!(
            guide.contains(&format!("scope <code>{scope}</code>")),
            "{scope}"
        );
    }
}

#[actix_web::test]
async fn bad_key_and_policy_requests_get_a_clear_error_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (user, browser, key) = with_access(&app, "Bea Bad").await;
    let id = key_id(&app, user.id, &key);
    let (other, _, other_key) = with_access(&app, "Otto Other").await;
    let other_id = key_id(&app, other.id, &other_key);
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;

    // Someone else's key, a key that does not exist, an id that is no id: not found.
    for path in [
        format!("/settings/api-access/keys/{other_id}"),
        format!("/settings/api-access/keys/{other_id}/delete"),
        "/settings/api-access/keys/999999".to_owned(),
        "/settings/api-access/keys/abc".to_owned(),
        "/settings/api-access/keys/-1/regenerate".to_owned(),
    ] {
        assert_eq!(browser.get(&path).await.status, 404, "GET {path}");
    }
    for path in [
        format!("/settings/api-access/keys/{other_id}/delete"),
        format!("/settings/api-access/keys/{other_id}/regenerate"),
        format!("/settings/api-access/keys/{other_id}/retire"),
    ] {
        assert_eq!(browser.post(&path, &[]).await.status, 404, "POST {path}");
    }
    assert_eq!(app.api().get_me(&other_key).await.status(), 200);

    // A grace that is not one of the choices; a key that is not retiring; a missing token.
    let page = browser
        .post(
            &format!("/settings/api-access/keys/{id}/regenerate"),
            &[("grace", "forever")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("choose 0, 1h, 24h or 7d"));
    let page = browser
        .post(&format!("/settings/api-access/keys/{id}/retire"), &[])
        .await;
    assert_eq!(page.status, 409);
    assert!(page.contains("This key is not retiring."));
    let page = browser
        .post_raw(&format!("/settings/api-access/keys/{id}/delete"), &[])
        .await;
    assert_eq!(page.status, 403);
    let page = browser
        .post(
            "/settings/api-access/keys",
            &[("name", "X"), ("access", "full"), ("admin", "true")],
        )
        .await;
    assert!(
        matches!(page.status, 400 | 422),
        "unknown field: {}",
        page.status
    );
    assert_eq!(
        app.api().get_me(&key).await.status(),
        200,
        "nothing changed"
    );

    // The policy: bad values are refused, support may not change it or allow anyone.
    for (fields, reason) in [
        (
            vec![
                ("max_lifetime_days", "abc"),
                ("max_keys_per_user", "10"),
                ("who_may_enable", "everyone"),
            ],
            "max_lifetime_days",
        ),
        (
            vec![
                ("max_lifetime_days", "4000"),
                ("max_keys_per_user", "10"),
                ("who_may_enable", "everyone"),
            ],
            "max_lifetime_days",
        ),
        (
            vec![("max_keys_per_user", "101"), ("who_may_enable", "everyone")],
            "max_keys_per_user",
        ),
        (
            vec![("max_keys_per_user", "10"), ("who_may_enable", "nobody")],
            "who_may_enable",
        ),
        (
            vec![
                ("max_keys_per_user", "10"),
                ("who_may_enable", "everyone"),
                ("require_expiry", "yes"),
            ],
            "checkbox",
        ),
    ] {
        let page = admin.post("/admin/api-management/policy", &fields).await;
        assert_eq!(page.status, 422, "{fields:?}");
        assert!(page.contains(reason), "{fields:?}: {reason}");
    }
    let allow = format!("/admin/api-management/users/{}/allow", user.id);
    assert_eq!(support.post(&allow, &[]).await.status, 403);
    assert_eq!(browser.post(&allow, &[]).await.status, 403);
    assert_eq!(
        admin
            .post("/admin/api-management/users/999999/allow", &[])
            .await
            .status,
        404
    );
    let policy = app
        .with_conn(keyport::models::KeyPolicyRow::get)
        .expect("policy");
    assert_eq!(policy, None, "no policy was saved");
    let clear_other = format!(
        "/admin/api-management/users/{}/keys/{other_id}/clear",
        user.id
    );
    assert_eq!(
        admin.post(&clear_other, &[]).await.status,
        404,
        "a key of someone else"
    );
    assert_eq!(app.api().get_me(&other_key).await.status(), 200);
}
