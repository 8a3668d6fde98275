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
