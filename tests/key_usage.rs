//! Keys part 3: how each key is used (counted in memory, written in batches), and where a key
//! that stopped working is still sent.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use keyport::db::schema::{api_keys, key_usage, stale_key_uses};
use keyport::models::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Api, Browser, TestApp, free_port, serve, serve_on};

#[derive(diesel::QueryableByName)]
struct Writes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// From here on, a trigger counts every row written to `key_usage`.
fn count_usage_writes(app: &TestApp) -> impl Fn() -> i64 + '_ {
    let counter = if app.database_url.starts_with("postgres") {
        "CREATE TABLE usage_writes (n BIGINT NOT NULL); INSERT INTO usage_writes VALUES (0);
         CREATE FUNCTION count_usage_write() RETURNS trigger AS $$
           BEGIN UPDATE usage_writes SET n = n + 1; RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER usage_inserted AFTER INSERT OR UPDATE ON key_usage
           FOR EACH ROW EXECUTE FUNCTION count_usage_write();"
    } else {
        "CREATE TABLE usage_writes (n BIGINT NOT NULL); INSERT INTO usage_writes VALUES (0);
         CREATE TRIGGER usage_inserted AFTER INSERT ON key_usage
           BEGIN UPDATE usage_writes SET n = n + 1; END;
         CREATE TRIGGER usage_updated AFTER UPDATE ON key_usage
           BEGIN UPDATE usage_writes SET n = n + 1; END;"
    };
    app.with_conn(|c| c.batch_execute(counter))
        .expect("trigger");
    move || {
        app.with_conn(|c| {
            diesel::sql_query("SELECT n FROM usage_writes")
                .get_result::<Writes>(c)
                .expect("count")
                .n
        })
    }
}

/// A read-only key of a new user, its id and the user's browser.
async fn read_only_key(app: &TestApp, name: &str) -> (String, i64, Browser) {
    let (_, browser) = app.signed_in(Role::User, name).await;
    browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let key = browser
        .post(
            "/settings/api-access/keys",
            &[("name", "Reporting"), ("access", "read")],
        )
        .await
        .shown_key();
    let id = key_id(app, &key[..9]);
    (key, id, browser)
}

fn key_id(app: &TestApp, prefix: &str) -> i64 {
    app.with_conn(|c| {
        api_keys::table
            .filter(api_keys::prefix.eq(prefix))
            .select(api_keys::id)
            .first(c)
    })
    .expect("the key")
}

/// 5 calls that succeed and 2 that the key's scopes refuse.
async fn five_and_two(api: &Api, key: &str) {
    for _ in 0..5 {
        let (status, _) = api.call(key, Method::GET, "/api/v1/contacts", None).await;
        assert_eq!(status, 200);
    }
    for _ in 0..2 {
        let body = json!({"first_name": "Rita", "last_name": "Refused"});
        let (status, _) = api
            .call(key, Method::POST, "/api/v1/contacts", Some(body))
            .await;
        assert_eq!(status, 403);
    }
}

fn today() -> String {
    keyport::db::now().date().to_string()
}

#[actix_web::test]
async fn usage_is_counted_in_memory_written_once_per_key_and_shown_to_the_owner() {
    let app = TestApp::spawn().await;
    let (key, id, browser) = read_only_key(&app, "Una Usage").await;
    let writes = count_usage_writes(&app);

    five_and_two(&app.api(), &key).await;
    let (status, _) = app
        .api()
        .call(&key, Method::GET, "/api/v1/contacts/999999", None)
        .await;
    assert_eq!(status, 404, "a client error");
    assert_eq!(writes(), 0, "nothing is written per request");
    let flushed = app.flush_usage().await;
    assert_eq!(flushed.days, 1);
    assert_eq!(writes(), 1, "one write for the key's day");
    assert_eq!(
        app.flush_usage().await.days,
        0,
        "nothing new, nothing written"
    );
    assert_eq!(writes(), 1);

    // The program sees its own usage: 30 days, oldest first, today last.
    let (status, usage) = app
        .api()
        .call(&key, Method::GET, "/api/v1/me/usage", None)
        .await;
    assert_eq!(status, 200, "{usage}");
    let days = usage["days"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    assert_eq!(
        days[29],
        json!({"date": today(), "succeeded": 5, "refused": 2, "client_errors": 1, "throttled": 0})
    );
    assert!(
        days[..29]
            .iter()
            .all(|d| d["succeeded"] == 0 && d["refused"] == 0)
    );
    let dates: Vec<&str> = days.iter().filter_map(|d| d["date"].as_str()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "oldest first");

    // The key's page: the chart and the totals (the usage call above is counted next flush).
    let page = browser
        .get(&format!("/settings/api-access/keys/{id}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.contains("<svg class=\"chart\""), "a chart");
    assert!(
        page.contains("5 succeeded and 3 refused or failed requests over the last 30 days"),
        "{}",
        page.body
    );
    assert!(page.contains("<dt>Succeeded</dt><dd>5</dd>"));
    assert!(page.contains("<dt>Refused (403)</dt><dd>2</dd>"));
    assert!(page.contains(&format!(
        "{}: 5 succeeded, 2 refused, 1 client errors, 0 throttled",
        today()
    )));

    // Another flush adds to the same row.
    five_and_two(&app.api(), &key).await;
    app.flush_usage().await;
    let stored: (i64, i64, i64) = app
        .with_conn(|c| {
            key_usage::table
                .filter(key_usage::key_id.eq(id))
                .select((
                    key_usage::succeeded,
                    key_usage::refused,
                    key_usage::client_errors,
                ))
                .first(c)
        })
        .expect("usage");
    assert_eq!(stored, (11, 4, 1), "5 + the usage call + 5, 2 + 2, 1");
    assert_eq!(writes(), 2);

    // The admin sees it on the person's page.
    let owner: i64 = app
        .with_conn(|c| api_keys::table.find(id).select(api_keys::user_id).first(c))
        .expect("owner");
    let (_, admin) = app.signed_in(Role::Admin, "Ada Usage").await;
    let page = admin
        .get(&format!("/admin/api-management/users/{owner}"))
        .await;
    assert!(page.contains("<h2>Usage</h2>"));
    assert!(
        page.contains("11 succeeded and 5 refused or failed requests"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn usage_counted_by_two_instances_adds_up_and_survives_a_restart() {
    let app = TestApp::spawn().await;
    let (key, id, _) = read_only_key(&app, "Ina Instances").await;
    let flags = ["--usage-flush", "1"];
    let (mut a, b) = (
        serve(&app.database_url, &flags),
        serve(&app.database_url, &flags),
    );
    a.wait_until_listening().await;
    b.wait_until_listening().await;
    for base in [&a.base, &b.base] {
        five_and_two(&Api::new(base.clone()), &key).await;
    }
    let stored = || -> Option<(i64, i64)> {
        app.with_conn(|c| {
            key_usage::table
                .filter(key_usage::key_id.eq(id))
                .select((key_usage::succeeded, key_usage::refused))
                .first(c)
                .optional()
        })
        .expect("usage")
    };
    let started = Instant::now();
    while stored() != Some((10, 4)) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "both instances' counts were not written: {:?}",
            stored()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // Counted since the last flush, then stopped gracefully: written at shutdown.
    let api_a = Api::new(a.base.clone());
    let (status, _) = api_a
        .call(&key, Method::GET, "/api/v1/contacts", None)
        .await;
    assert_eq!(status, 200);
    a.terminate();
    a.wait_for_exit(Duration::from_secs(20));
    drop(b);
    let (succeeded, _) = stored().expect("usage");
    assert_eq!(succeeded, 11, "the last call was written at shutdown");
    // A new instance reads what was written.
    let c = serve(&app.database_url, &[]);
    c.wait_until_listening().await;
    let (status, usage) = Api::new(c.base.clone())
        .call(&key, Method::GET, "/api/v1/me/usage", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(usage["days"][29]["succeeded"], 11);
    assert_eq!(usage["days"][29]["refused"], 4);
}

/// The call a forgotten integration keeps making: the old key in a link, from Zapier.
async fn forgotten_call(app: &TestApp, key: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url("/api/v1/contacts"))
        .query(&[("api_key", key), ("limit", "2")])
        .header("User-Agent", "Zapier")
        .send()
        .await
        .expect("call")
        .status()
        .as_u16()
}

#[actix_web::test]
async fn a_regenerated_key_still_in_use_is_shown_to_its_owner_and_staff_until_dismissed() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Sid Stale").await;
    let old = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let old_id = key_id(&app, &old[..9]);
    let regenerated = browser
        .post(
            &format!("/settings/api-access/keys/{old_id}/regenerate"),
            &[("grace", "0")],
        )
        .await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);

    for _ in 0..3 {
        assert_eq!(forgotten_call(&app, &old).await, 401, "it no longer works");
    }
    // A made-up key of the right form leaves nothing behind.
    let made_up = keyport::domain::keys::ApiKey::generate();
    assert_eq!(forgotten_call(&app, made_up.expose()).await, 401);
    let flushed = app.flush_usage().await;
    assert_eq!(flushed.stale_keys, 1);
    let rows: Vec<(i64, i64)> = app
        .with_conn(|c| {
            stale_key_uses::table
                .select((stale_key_uses::key_id, stale_key_uses::uses))
                .load(c)
        })
        .expect("rows");
    assert_eq!(
        rows,
        vec![(old_id, 3)],
        "one row, for the key keyport issued"
    );

    // The owner's API Access page says which key, how often, from where, how and to what.
    let page = browser.get("/settings/api-access").await;
    let prefix = &old[..9];
    for shown in [
        format!("Your regenerated key “Default” <code>{prefix}…</code> was still used 3 times"),
        "from 127.0.0.1".to_owned(),
        "sent as a link parameter (api_key) to <code>GET /api/v1/contacts</code>".to_owned(),
        "(User-Agent: Zapier)".to_owned(),
    ] {
        assert!(page.contains(&shown), "{shown} in\n{}", page.body);
    }
    assert!(!page.contains("limit=2"), "the query string is not kept");
    assert!(!page.contains(&old), "never the key");

    // Staff see the same on the person's page, and find the person with ?stale=1.
    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;
    let person = support
        .get(&format!("/admin/api-management/users/{}", user.id))
        .await;
    assert!(person.contains(&format!(
        "The regenerated key “Default” <code>{prefix}…</code> was still used 3 times"
    )));
    assert!(
        !person.contains("/still-used/dismiss"),
        "only the owner dismisses"
    );
    app.user_with_key("Nat Notstale").await;
    let stale = support.get("/admin/api-management?stale=1").await;
    assert_eq!(stale.status, 200);
    assert!(stale.contains("Sid Stale"), "{}", stale.body);
    assert!(!stale.contains("Nat Notstale"));
    let all = support.get("/admin/api-management").await;
    assert!(all.contains("Nat Notstale"));
    assert_eq!(
        support.get("/admin/api-management?stale=yes").await.status,
        400
    );
    let searched = support.get("/admin/api-management?stale=1&q=nat").await;
    assert!(!searched.contains("Sid Stale"));

    // Dismissed: gone from the owner's page until the key is sent again.
    let dismissed = browser
        .post(
            &format!("/settings/api-access/keys/{old_id}/still-used/dismiss"),
            &[],
        )
        .await;
    assert_eq!(dismissed.status, 303);
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("Notice dismissed"));
    assert!(!page.contains("was still used"));
    let person = support
        .get(&format!("/admin/api-management/users/{}", user.id))
        .await;
    assert!(person.contains("Dismissed by its owner"));
    assert_eq!(forgotten_call(&app, &old).await, 401);
    app.flush_usage().await;
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("was still used 4 times"), "{}", page.body);

    // Somebody else's key cannot be dismissed by id: a 404, nothing changes.
    let (_, stranger) = app.signed_in(Role::User, "Stu Stranger").await;
    let refused = stranger
        .post(
            &format!("/settings/api-access/keys/{old_id}/still-used/dismiss"),
            &[],
        )
        .await;
    assert_eq!(refused.status, 404);
    let news: Option<chrono::NaiveDateTime> = app
        .with_conn(|c| {
            stale_key_uses::table
                .find(old_id)
                .select(stale_key_uses::dismissed_at)
                .first(c)
        })
        .expect("row");
    assert!(news.is_some(), "still the owner's dismissal only");
}

#[actix_web::test]
async fn an_expired_or_deleted_key_still_in_use_is_tracked_by_its_key_page() {
    let app = TestApp::spawn().await;
    let (key, id, browser) = read_only_key(&app, "Eve Expired").await;
    app.with_conn(|c| {
        diesel::update(api_keys::table.find(id))
            .set(api_keys::expires_at.eq(keyport::db::now() - chrono::Duration::hours(1)))
            .execute(c)
    })
    .expect("expire it");
    let (status, body) = app.api().call(&key, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("expired"))
    );
    app.flush_usage().await;
    let page = browser
        .get(&format!("/settings/api-access/keys/{id}"))
        .await;
    assert!(
        page.contains("Your expired key “Reporting”"),
        "{}",
        page.body
    );
    assert!(page.contains("in the X-Api-Key header to <code>GET /api/v1/me</code>"));
    assert!(
        page.contains(&format!(
            "/settings/api-access/keys/{id}/still-used/dismiss"
        )),
        "the owner may dismiss it here too"
    );
}

/// A call to GET /api/v1/me with `key`, as if forwarded for `forwarded_for`: status and body.
async fn me_from(app: &TestApp, key: &str, forwarded_for: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("X-Api-Key", key);
    if let Some(addr) = forwarded_for {
        request = request.header("X-Forwarded-For", addr);
    }
    let answer = request.send().await.expect("call");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("JSON"))
}

async fn save_addresses(browser: &Browser, id: i64, text: &str) -> crate::support::Page {
    browser
        .post(
            &format!("/settings/api-access/keys/{id}/addresses"),
            &[("allowed_ips", text)],
        )
        .await
}

fn stored_addresses(app: &TestApp, id: i64) -> String {
    app.with_conn(|c| {
        api_keys::table
            .find(id)
            .select(api_keys::allowed_ips)
            .first(c)
    })
    .expect("key")
}

#[actix_web::test]
async fn an_allow_list_lets_a_key_in_only_from_its_addresses() {
    let app = TestApp::spawn().await;
    let (key, id, browser) = read_only_key(&app, "Ali Allowed").await;

    // Elsewhere: 403 naming the address, counted as refused.
    assert_eq!(save_addresses(&browser, id, "10.0.0.0/8").await.status, 303);
    let page = browser
        .get(&format!("/settings/api-access/keys/{id}"))
        .await;
    assert!(
        page.contains("may now be used only from 10.0.0.0/8"),
        "{}",
        page.body
    );
    let (status, body) = me_from(&app, &key, None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "this key may not be used from 127.0.0.1");

    // A single other address: refused too.
    assert_eq!(
        save_addresses(&browser, id, "203.0.113.7").await.status,
        303
    );
    assert_eq!(me_from(&app, &key, None).await.0, 403);

    // Loopback, IPv4 and IPv6: in.
    assert_eq!(
        save_addresses(&browser, id, "127.0.0.1/32\n::1/128\n")
            .await
            .status,
        303
    );
    assert_eq!(stored_addresses(&app, id), "127.0.0.1\n::1");
    assert_eq!(me_from(&app, &key, None).await.0, 200);
    app.flush_usage().await;
    let (_, usage) = app
        .api()
        .call(&key, Method::GET, "/api/v1/me/usage", None)
        .await;
    assert_eq!(usage["days"][29]["refused"], 2, "{usage}");
    assert_eq!(usage["days"][29]["succeeded"], 1, "{usage}");

    // A wrong line: named, what was typed is shown again, nothing is saved.
    let refused = save_addresses(&browser, id, "10.0.0.0/8\nexample.com\n").await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.contains("line 2"), "{}", refused.body);
    assert!(refused.contains("example.com"));
    assert_eq!(
        stored_addresses(&app, id),
        "127.0.0.1\n::1",
        "nothing saved"
    );
    let too_many: String = (0..51).map(|n| format!("10.0.0.{n}\n")).collect();
    assert_eq!(save_addresses(&browser, id, &too_many).await.status, 422);
    assert_eq!(stored_addresses(&app, id), "127.0.0.1\n::1");

    // The admin sees the list and the change in the audit trail.
    let owner: i64 = app
        .with_conn(|c| api_keys::table.find(id).select(api_keys::user_id).first(c))
        .expect("owner");
    let (_, admin) = app.signed_in(Role::Admin, "Ada Addresses").await;
    let person = admin
        .get(&format!("/admin/api-management/users/{owner}"))
        .await;
    assert!(
        person.contains("Only from 127.0.0.1, ::1"),
        "{}",
        person.body
    );
    assert!(person.contains("Changed where a key may be used from"));

    // Regenerate New Key keeps the list.
    let regenerated = browser
        .post(
            &format!("/settings/api-access/keys/{id}/regenerate"),
            &[("grace", "0")],
        )
        .await;
    let new_key = regenerated.shown_key();
    let new_id = key_id(&app, &new_key[..9]);
    assert_eq!(stored_addresses(&app, new_id), "127.0.0.1\n::1");

    // Emptied: anywhere again.
    assert_eq!(save_addresses(&browser, new_id, "").await.status, 303);
    assert_eq!(stored_addresses(&app, new_id), "");
    assert_eq!(me_from(&app, &new_key, None).await.0, 200);
}

#[actix_web::test]
async fn an_allow_list_believes_only_a_trusted_proxy() {
    // Behind a proxy keyport trusts: the forwarded address is the one checked.
    let app = TestApp::behind_trusted_proxy().await;
    let (key, id, browser) = read_only_key(&app, "Pia Proxied").await;
    assert_eq!(
        save_addresses(&browser, id, "203.0.113.0/24").await.status,
        303
    );
    assert_eq!(me_from(&app, &key, Some("203.0.113.7")).await.0, 200);
    let (status, body) = me_from(&app, &key, Some("198.51.100.7")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "this key may not be used from 198.51.100.7");

    // Without trusted proxies, anyone may write the header: it is not believed.
    let app = TestApp::spawn().await;
    let (key, id, browser) = read_only_key(&app, "Udo Untrusted").await;
    assert_eq!(
        save_addresses(&browser, id, "203.0.113.0/24").await.status,
        303
    );
    let (status, body) = me_from(&app, &key, Some("203.0.113.7")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "this key may not be used from 127.0.0.1");
}

#[actix_web::test]
async fn an_allow_list_checks_ipv6_callers_too() {
    let app = TestApp::spawn().await;
    let (key, id, browser) = read_only_key(&app, "Ivy Six").await;
    let six = serve_on(
        &app.database_url,
        &format!("[::1]:{}", free_port()),
        &[],
        &[],
    );
    six.wait_until_listening().await;
    let from_six = Api::new(six.base.clone());

    assert_eq!(save_addresses(&browser, id, "::1/128").await.status, 303);
    let (status, _) = from_six.call(&key, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 200, "from ::1");
    let (status, body) = me_from(&app, &key, None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "this key may not be used from 127.0.0.1");

    assert_eq!(
        save_addresses(&browser, id, "127.0.0.1/32").await.status,
        303
    );
    let (status, body) = from_six.call(&key, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "this key may not be used from ::1");
    assert_eq!(me_from(&app, &key, None).await.0, 200);
}

#[actix_web::test]
async fn usage_older_than_ninety_days_is_pruned() {
    let app = TestApp::spawn().await;
    let (_, id, _) = read_only_key(&app, "Old Olga").await;
    let today = keyport::db::now().date();
    let counts = keyport::models::key_usage::DayCounts {
        succeeded: 1,
        ..Default::default()
    };
    for age in [0, 89, 90, 91, 400] {
        app.with_conn(|c| {
            keyport::models::key_usage::add_day(c, id, today - chrono::Duration::days(age), &counts)
        })
        .expect("a day");
    }
    let pruned = app
        .with_conn(|c| keyport::domain::key_usage::prune(c, today))
        .expect("prune");
    assert_eq!(pruned, 2, "the days 91 and 400 days ago");
    let kept: i64 = app
        .with_conn(|c| {
            key_usage::table
                .filter(key_usage::key_id.eq(id))
                .count()
                .get_result(c)
        })
        .expect("kept");
    assert_eq!(kept, 3);
}
