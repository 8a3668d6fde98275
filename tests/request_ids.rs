//! Every request has an id: in the `X-Request-Id` header, on error pages and API errors, and
//! on every log line written while it is handled (JSON logs with `KEYPORT_LOG_FORMAT=json`).

use serde_json::Value;

use crate::support::{PASSWORD, TestApp, serve_with_env};

fn id_of(res: &reqwest::Response) -> String {
    res.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned()
}

#[actix_web::test]
async fn every_answer_names_its_request_and_errors_show_the_id() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(app.url(path)).send();

    let (first, second) = (
        get("/login").await.expect("GET"),
        get("/login").await.expect("GET"),
    );
    let (a, b) = (id_of(&first), id_of(&second));
    assert!(
        a.len() == 16 && a.chars().all(|c| c.is_ascii_hexdigit()),
        "{a}"
    );
    assert_ne!(a, b, "each request has its own id");

    // A page that is not there says which request it was.
    let missing = get("/no/such/page").await.expect("GET");
    assert_eq!(missing.status(), 404);
    let id = id_of(&missing);
    let page = missing.text().await.expect("body");
    assert!(
        page.contains(&format!("Request id <code>{id}</code>")),
        "{page}"
    );

    // So does an API error, in its JSON.
    let refused = get("/api/v1/me").await.expect("GET");
    assert_eq!(refused.status(), 401);
    let id = id_of(&refused);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["request_id"], id.as_str());

    // An id sent by a client that is not a trusted proxy is not believed.
    let sent = client
        .get(app.url("/login"))
        .header("x-request-id", "chosen-by-client")
        .send()
        .await
        .expect("GET");
    assert_ne!(id_of(&sent), "chosen-by-client");
}

#[actix_web::test]
async fn a_trusted_proxys_request_id_is_kept_when_it_is_plain() {
    let app = TestApp::behind_trusted_proxy().await;
    let client = reqwest::Client::new();
    let with = |id: String| {
        client
            .get(app.url("/healthz"))
            .header("x-request-id", id)
            .send()
    };
    let nginx = "4f1c2a9be07d4c3a8f5e6d7c8b9a0f1e";
    assert_eq!(id_of(&with(nginx.into()).await.expect("GET")), nginx);
    // Not plain: replaced, so nothing odd reaches the logs.
    let odd = id_of(&with("a b\"c".into()).await.expect("GET"));
    assert_eq!(odd.len(), 16);
    assert_eq!(id_of(&with("x".repeat(65)).await.expect("GET")).len(), 16);
}

#[actix_web::test]
async fn json_logs_carry_the_request_id_on_every_line_and_never_a_key() {
    let app = TestApp::spawn().await;
    let (user, key) = app.user_with_key("Lou Logs").await;
    let served = serve_with_env(
        &app.database_url,
        &[],
        &[("KEYPORT_LOG_FORMAT", "json"), ("KEYPORT_LOG", "info")],
    );
    served.wait_until_listening().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // A program's link with its key, a refused key, and a person's audited change.
    let linked = client
        .get(format!("{}/api/v1/me?api_key={key}", served.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(linked.status(), 200);
    let linked_id = id_of(&linked);
    let refused = client
        .get(format!("{}/api/v1/me", served.base))
        .header("X-Api-Key", format!("{key}x"))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), 401);
    let browser = crate::support::Browser::new(served.base.clone());
    assert_eq!(browser.sign_in(&user.email, PASSWORD).await.status, 303);
    let regenerated = browser.post("/settings/api-access/regenerate", &[]).await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    let new_key = regenerated.shown_key();
    let regenerate_id = regenerated.header("x-request-id").to_owned();

    // The lines arrive asynchronously; wait for the regeneration's access line.
    let started = std::time::Instant::now();
    let lines = loop {
        let lines = served.log_lines();
        if lines
            .iter()
            .any(|l| l.contains(&regenerate_id) && l.contains("keyport::access"))
        {
            break lines;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{lines:#?}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    // Every line written while handling a request carries that request's id.
    let of = |id: &str| {
        events
            .iter()
            .filter(|e| e["span"]["id"] == id)
            .collect::<Vec<_>>()
    };
    let linked_lines = of(&linked_id);
    assert!(
        linked_lines
            .iter()
            .any(|e| e["target"] == "keyport::access"
                && e["fields"]["query"] == "api_key=[redacted]"),
        "{linked_lines:#?}"
    );
    let regenerate_lines = of(&regenerate_id);
    assert!(
        regenerate_lines
            .iter()
            .any(|e| e["fields"]["message"] == "audit event"
                && e["fields"]["action"] == "api_access.regenerated"),
        "the audit line, written on a database thread, names the request: {regenerate_lines:#?}"
    );
    assert!(
        regenerate_lines
            .iter()
            .any(|e| e["target"] == "keyport::access")
    );
    for event in &events {
        if event["target"] == "keyport::access" {
            assert!(event["span"]["id"].is_string(), "{event}");
        }
    }
    // No key, old or new, in any line.
    for line in &lines {
        assert!(
            !line.contains(&key[3..]) && !line.contains(&new_key[3..]),
            "{line}"
        );
    }
}
