//! How the API treats the keys it is given.

use keyport::domain::keys::ApiKey;
use keyport::models::{ApiKeyRow, Role};
use serde_json::Value;

use crate::support::{KeyIn, TestApp, captured_logs};

/// Every refusal looks the same, whatever was wrong with the key.
async fn assert_refused(response: reqwest::Response, case: &str) -> Value {
    assert_eq!(response.status(), 401, "{case}");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"keyport\""),
        "{case}"
    );
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{case}"
    );
    // Each refusal names its own request; otherwise they are all the same.
    let id = response.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let mut body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["request_id"], id.as_str(), "{case}");
    body.as_object_mut().expect("object").remove("request_id");
    body
}

#[actix_web::test]
async fn malformed_keys_are_refused_without_touching_the_database() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let valid = ApiKey::generate();
    let valid = valid.expose();
    let mut bad_checksum: Vec<char> = valid.chars().collect();
    let last = bad_checksum.len() - 1;
    bad_checksum[last] = if bad_checksum[last] == '0' { '1' } else { '0' };
    let bad_checksum: String = bad_checksum.into_iter().collect();
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("prefix only", "kp_".into()),
        ("wrong prefix", format!("xx_{}", &valid[3..])),
        ("bad checksum", bad_checksum),
        ("truncated", valid[..valid.len() - 1].to_owned()),
        ("10 KB long", format!("kp_{}", "a".repeat(10 * 1024))),
        ("non-ASCII", format!("kp_{}é", &valid[3..valid.len() - 2])),
        ("spaces inside", format!("kp_ {}", &valid[4..])),
    ];

    let before = app.db.checkouts();
    let mut bodies = Vec::new();
    for (case, key) in &cases {
        for how in [KeyIn::Header, KeyIn::Bearer, KeyIn::Query] {
            if matches!(how, KeyIn::Header | KeyIn::Bearer) && !key.is_ascii() {
                // Header values carry bytes; send the UTF-8 bytes as they are.
                let response = api
                    .request(reqwest::Method::GET, "/api/v1/me")
                    .header(
                        "X-Api-Key",
                        reqwest::header::HeaderValue::from_bytes(key.as_bytes()).expect("bytes"),
                    )
                    .send()
                    .await
                    .expect("GET");
                bodies.push(assert_refused(response, case).await);
                continue;
            }
            bodies.push(
                assert_refused(
                    api.get_me_via(key, how).await,
                    &format!("{case} via {how:?}"),
                )
                .await,
            );
        }
    }
    let missing = assert_refused(api.get("/api/v1/me").await, "no key").await;
    bodies.push(missing);
    assert_eq!(
        app.db.checkouts(),
        before,
        "a malformed key reached the database"
    );
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "refusals differ: {bodies:?}"
    );
    assert!(
        bodies[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("valid API key"))
    );

    // A well-formed key that was never issued is looked up, and refused the same way.
    let unknown = ApiKey::generate();
    let body = assert_refused(api.get_me(unknown.expose()).await, "unknown").await;
    assert_eq!(body, bodies[0]);
    assert!(app.db.checkouts() > before);
}

#[actix_web::test]
async fn last_use_is_recorded_with_time_and_address() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Lou Lastused").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let before = app
        .with_conn(|c| ApiKeyRow::active_for_user(c, user.id))
        .expect("key")
        .expect("active");
    assert!(before.last_used_at.is_none());

    assert_eq!(app.api().get_me(&key).await.status(), 200);
    let after = app
        .with_conn(|c| ApiKeyRow::active_for_user(c, user.id))
        .expect("key")
        .expect("active");
    let used = after.last_used_at.expect("last used time");
    assert_eq!(after.last_used_ip.as_deref(), Some("127.0.0.1"));

    // Within the minute, further calls do not write again.
    assert_eq!(app.api().get_me(&key).await.status(), 200);
    let again = app
        .with_conn(|c| ApiKeyRow::active_for_user(c, user.id))
        .expect("key")
        .expect("active");
    assert_eq!(again.last_used_at, Some(used));

    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("from 127.0.0.1"), "{}", page.body);
}

#[actix_web::test]
async fn keys_in_links_are_redacted_from_the_access_log() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.signed_in(Role::User, "Rex Redact").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let response = app
        .api()
        .get(&format!("/api/v1/contacts?limit=5&api_key={key}"))
        .await;
    assert_eq!(response.status(), 200);
    // A refused request is logged redacted too.
    let response = app
        .api()
        .get(&format!("/api/v1/me?format=full&api_key={key}"))
        .await;
    assert_eq!(response.status(), 400);
    let logs = captured_logs();
    assert!(
        logs.contains("query=limit=5&api_key=[redacted]"),
        "no redacted access-log line"
    );
    assert!(
        logs.contains("query=format=full&api_key=[redacted]"),
        "no redacted access-log line for the refused request"
    );
    assert!(!logs.contains(&key), "the key reached the log");
    assert!(
        !logs.contains(&key[..20]),
        "part of the key reached the log"
    );
}

/// Issue 16, finding 3: a key is recognised by its form wherever a link puts it — a
/// percent-escaped parameter name, other names, a path segment, a page that sends the visitor
/// to sign in — and never reaches the access log or `next=` in full.
#[actix_web::test]
async fn keys_are_redacted_from_the_log_by_their_form_wherever_they_stand() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Kit Keyform").await;
    let escaped: String = key.replace('_', "%5F");
    let placements = [
        (format!("/api/v1/me?%61pi_key={key}"), 200),
        // Parameters the API does not take are refused, and logged all the same.
        (format!("/api/v1/me?apikey={key}"), 400),
        (format!("/api/v1/me?key={key}"), 400),
        (format!("/api/v1/me?access_token={key}"), 400),
        (format!("/api/v1/{key}"), 404),
        (format!("/api/v1/me?t={escaped}"), 400),
        (format!("/settings/api-access?api_key={key}"), 303),
        (format!("/settings/api-access?tab=1&k={key}"), 303),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (path, status) in &placements {
        let response = client.get(app.url(path)).send().await.expect("GET");
        assert_eq!(response.status().as_u16(), *status, "{path}");
        if let Some(location) = response.headers().get("location") {
            let location = location.to_str().expect("location");
            assert!(location.starts_with("/login?next="), "{location}");
            assert!(
                !location.contains(&key[3..]),
                "the key in next=: {location}"
            );
            let decoded = percent_encoding::percent_decode_str(location).decode_utf8_lossy();
            assert!(!decoded.contains(&key[3..]), "the key in next=: {decoded}");
        }
    }
    let logs = captured_logs();
    assert!(
        logs.contains(&format!("{}…[redacted]", &key[..9])),
        "no redacted key in the access log"
    );
    assert!(!logs.contains(&key[3..]), "the key reached the log");
    assert!(
        !logs.contains(&key[12..]),
        "part of the key reached the log"
    );
}

/// Issue 16, finding 8: two different keys in one request are refused, not answered as the
/// owner of whichever keyport looked at first; the same key twice is one key, and a value
/// that is not a key at all claims no one.
#[actix_web::test]
async fn a_request_with_two_different_keys_is_refused() {
    let app = TestApp::spawn().await;
    let (_, ann) = app.user_with_key("Ann Onekey").await;
    let (_, bob) = app.user_with_key("Bob Otherkey").await;
    let api = app.api();
    let me = |query: &str| format!("/api/v1/me{query}");
    let cases = [
        api.request(reqwest::Method::GET, &me(""))
            .header("X-Api-Key", &ann)
            .bearer_auth(&bob),
        api.request(reqwest::Method::GET, &me(&format!("?api_key={bob}")))
            .header("X-Api-Key", &ann),
        api.request(reqwest::Method::GET, &me(&format!("?api_key={bob}")))
            .bearer_auth(&ann),
    ];
    for case in cases {
        let response = case.send().await.expect("GET");
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.to_lowercase().starts_with("send one api key")),
            "{body}"
        );
    }
    let same = api
        .request(reqwest::Method::GET, &me(&format!("?api_key={ann}")))
        .header("X-Api-Key", &ann)
        .send()
        .await
        .expect("GET");
    assert_eq!(same.status(), 200);
    // A value that is no key at all claims no one: the key beside it answers.
    let junk = api
        .request(reqwest::Method::GET, &me("?api_key=not-a-key"))
        .header("X-Api-Key", &ann)
        .send()
        .await
        .expect("GET");
    assert_eq!(junk.status(), 200);
}

#[actix_web::test]
async fn api_errors_are_json() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let response = api.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("json");
    assert!(body["error"].is_string());

    let response = api
        .request(reqwest::Method::DELETE, "/api/v1/me")
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET")
    );
    let body: Value = response.json().await.expect("json");
    assert!(body["error"].is_string());
}
