//! The OpenAPI document and the API Developer Guide: complete, reachable, and with examples
//! that verify real signatures.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use keyport::domain::delivery::signing::sign;
use keyport::models::Role;
use reqwest::Method;
use serde_json::Value;

use crate::support::TestApp;

async fn openapi(app: &TestApp) -> Value {
    let response = app.api().get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200, "served without a key");
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.expect("JSON")
}

/// Every (method, path) the document lists.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut list = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            list.push((method.to_uppercase(), path.clone()));
        }
    }
    list
}

#[actix_web::test]
async fn the_document_is_openapi_3_1_with_the_three_ways_to_pass_the_key() {
    let app = TestApp::spawn().await;
    let doc = openapi(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "keyport API");

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["api_key_header"]["type"], "apiKey");
    assert_eq!(schemes["api_key_header"]["in"], "header");
    assert_eq!(schemes["api_key_header"]["name"], "X-Api-Key");
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key_query"]["type"], "apiKey");
    assert_eq!(schemes["api_key_query"]["in"], "query");
    assert_eq!(schemes["api_key_query"]["name"], "api_key");
    // Any one of the three will do, everywhere but the document itself.
    assert_eq!(
        doc["security"],
        serde_json::json!([{"api_key_header": []}, {"bearer": []}, {"api_key_query": []}])
    );
    assert_eq!(
        doc["paths"]["/api/v1/openapi.json"]["get"]["security"],
        serde_json::json!([{}])
    );

    // Bodies and errors are described, not left open.
    let create = &doc["paths"]["/api/v1/contacts"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewContact"
    );
    assert_eq!(
        doc["components"]["schemas"]["NewContact"]["required"],
        serde_json::json!(["first_name", "last_name"])
    );
    assert_eq!(
        create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
    assert_eq!(
        doc["components"]["schemas"]["Error"]["required"],
        serde_json::json!(["error"])
    );
    let ids: Vec<&str> = operations(&doc)
        .iter()
        .map(|(m, p)| {
            doc["paths"][p][m.to_lowercase()]["operationId"]
                .as_str()
                .expect("id")
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
}

/// Routes under /api/v1 are registered only through utoipa-actix-web's `service`, which takes
/// nothing but handlers carrying `#[utoipa::path]`: a route cannot be added without being in the
/// document unless it bypasses that (actix's own `route`, `resource`, `scope`). So this
/// checks both sides: the API module uses none of those, and the running server answers every
/// documented operation and refuses every other method on each documented path.
#[actix_web::test]
async fn every_api_route_is_in_the_document() {
    let sources = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api"))
        .expect("src/api")
        .map(|entry| entry.expect("entry").path());
    for path in sources {
        let code = std::fs::read_to_string(&path).expect("source");
        for bypass in [
            "web::resource(",
            "web::scope(",
            ".route(",
            "external_resource(",
        ] {
            assert!(
                !code.contains(bypass),
                "{} registers a route with `{bypass}`, which leaves it out of the OpenAPI document",
                path.display()
            );
        }
    }

    let app = TestApp::spawn().await;
    let api = app.api();
    let doc = openapi(&app).await;
    let documented = operations(&doc);
    assert!(documented.len() >= 21, "{documented:?}");
    let paths: std::collections::BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        let concrete = path.replace("{id}", "1");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
            let response = api
                .request(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    &concrete,
                )
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            if documented.contains(&(method.to_owned(), path.clone())) {
                assert!(
                    ![404, 405].contains(&status) || status == 404 && path.contains("{id}"),
                    "{method} {path} is documented but answered {status}"
                );
                if status == 404 {
                    let body: Value = response.json().await.expect("JSON");
                    assert_ne!(
                        body["error"], "There is no such API endpoint.",
                        "{method} {path}"
                    );
                }
            } else {
                assert_eq!(status, 405, "{method} {path} is not documented");
                let allow = response.headers()["allow"]
                    .to_str()
                    .expect("allow")
                    .to_owned();
                if method != "HEAD" {
                    let body: Value = response.json().await.expect("JSON");
                    assert!(body["error"].as_str().expect("error").contains(&allow));
                }
            }
        }
    }
    let response = api.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), 404);
}

#[actix_web::test]
async fn the_guide_is_reachable_from_the_settings_two_ways_and_from_api_management() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.signed_in(Role::User, "Gus Guide").await;
    let settings = browser.get("/settings").await;
    assert!(
        settings.contains(r#"<li><a href="/docs/api">API Developer Guide</a></li>"#),
        "the settings menu has an API Developer Guide entry"
    );
    let api_access = browser.get("/settings/api-access").await;
    assert!(api_access.contains(r#"<a href="/docs/api">Read the API Developer Guide</a>"#));
    assert!(api_access.contains(r#"<li><a href="/docs/api">API Developer Guide</a></li>"#));

    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let management = admin.get("/admin/api-management").await;
    assert!(management.contains(r#"<a href="/docs/api">API Developer Guide</a>"#));

    let guide = browser.get("/docs/api").await;
    assert_eq!(guide.status, 200);
    assert!(guide.contains("<h1>API Developer Guide</h1>"));
    assert!(
        guide.contains("Gus Guide"),
        "signed-in people keep their header"
    );
    // Anyone may read it.
    assert_eq!(app.browser().get("/docs/api").await.status, 200);
}

/// Issue 16, finding 8: the guide's example addresses come from the configured public URL,
/// or from a trusted proxy; a forwarded host anyone else sends is not believed.
#[actix_web::test]
async fn the_guides_examples_ignore_forwarded_hosts_from_untrusted_clients() {
    let app = TestApp::spawn().await;
    let guide = |app: &TestApp| {
        let request = app
            .browser()
            .request(Method::GET, "/docs/api")
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "host=evil.example;proto=https");
        async move {
            request
                .send()
                .await
                .expect("GET")
                .text()
                .await
                .expect("body")
        }
    };
    let page = guide(&app).await;
    assert!(
        !page.contains("evil.example"),
        "an untrusted forwarded host"
    );
    let own = app.url("/api/v1/me");
    assert!(page.contains(own.trim_start_matches("http://")), "{own}");

    // Behind a trusted proxy, what it forwards is the address people use.
    let proxied = TestApp::builder()
        .web(keyport::config::WebSettings {
            trusted_proxies: keyport::config::AddressRanges::parse("127.0.0.1/32").expect("ranges"),
            ..keyport::config::WebSettings::default()
        })
        .spawn()
        .await;
    assert!(
        guide(&proxied)
            .await
            .contains("https://evil.example/api/v1/")
    );

    // A configured public URL wins over both.
    let public = TestApp::builder()
        .web(keyport::config::WebSettings {
            public_url: Some("https://api.example.com/".into()),
            ..keyport::config::WebSettings::default()
        })
        .spawn()
        .await;
    let page = guide(&public).await;
    assert!(page.contains("https://api.example.com/api/v1/"));
    assert!(!page.contains("evil.example"));
}

#[actix_web::test]
async fn the_guide_covers_every_endpoint_of_the_document_and_the_rules_programs_need() {
    let app = TestApp::spawn().await;
    let doc = openapi(&app).await;
    let guide = app.browser().get("/docs/api").await;
    // Who may do what, and how an account is had and recovered.
    assert!(guide.contains(r##"<a href="#roles">Accounts and roles</a>"##));
    for role in ["User", "Support", "Admin"] {
        assert!(
            guide.contains(&format!("<td><strong>{role}</strong></td>")),
            "{role}"
        );
    }
    assert!(guide.contains(r#"<a href="/password-reset">Forgot password?</a>"#));
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let id = op["operationId"].as_str().expect("id");
        assert!(
            guide.contains(&format!(
                r#"<h3 id="{id}-title"><span class="method method-{method}">{method}</span> <code>{path}</code></h3>"#
            )),
            "{method} {path} is not in the guide"
        );
        let summary = op["summary"].as_str().expect("summary");
        assert!(guide.contains(summary), "{summary}");
    }
    for schema in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        assert!(
            guide.contains(&format!(r#"id="schema-{schema}""#)),
            "{schema}"
        );
    }
    for text in [
        "A key in a link is visible to whoever sees the link",
        "Regenerating your key breaks every link that contains it",
        "webhook-signature",
        // The retry schedule and auto-disable are the ones this instance runs with.
        "tried again after 5s, 5m, 30m, 2h, 5h, 10h, 10h (8 attempts in all)",
        "keep failing for 5days",
        "<code>410 Gone</code>",
        // Any port is allowed, and the guide says so (issue 16, finding 8).
        "Any port is allowed",
        "1 to 100 records a page",
        "256 KB",
        "next_after",
        "At most 100 characters.",
        // Code in the document's descriptions reads as code.
        "Follow <code>next_after</code> for the next page.",
    ] {
        assert!(guide.contains(text), "the guide does not say {text:?}");
    }
}

/// The copy-pasteable examples as the guide shows them.
fn example(page: &str, name: &str) -> String {
    examples(page, name)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {name} example"))
}

fn examples(page: &str, name: &str) -> Vec<String> {
    let marker = format!(r#"<code data-example="{name}">"#);
    page.match_indices(&marker)
        .map(|(at, _)| {
            let start = at + marker.len();
            let end = page[start..].find("</code>").expect("end") + start;
            html_escape::decode_html_entities(&page[start..end]).into_owned()
        })
        .collect()
}

fn run(program: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} must be installed to check the guide: {e}"));
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

#[actix_web::test]
async fn the_guides_verification_examples_accept_real_signatures_and_refuse_changed_ones() {
    let app = TestApp::spawn().await;
    let guide = app.browser().get("/docs/api").await.body;
    let secret = keyport::domain::keys::webhook_secret();
    let id = "msg_guide_test";
    let timestamp = chrono::Utc::now().timestamp();
    let body = r#"{"type":"job.updated","timestamp":"2026-11-26T09:00:00.000Z","data":{"id":7,"title":"Ünïcode ✓"}}"#;
    let signed_at = |at: i64| sign(&secret, id, at, body).expect("signature");
    // A receiver may see several signatures; one match is enough.
    let other = "v1,bm90IHRoaXMgb25l";
    let cases = [
        (
            "signed",
            body.to_owned(),
            format!("{other} {}", signed_at(timestamp)),
            timestamp,
            "true",
        ),
        (
            "a changed body",
            body.replace('7', "8"),
            signed_at(timestamp),
            timestamp,
            "false",
        ),
        (
            "another signature",
            body.to_owned(),
            other.to_owned(),
            timestamp,
            "false",
        ),
        (
            "an hour old",
            body.to_owned(),
            signed_at(timestamp - 3600),
            timestamp - 3600,
            "false",
        ),
    ];

    let python = example(&guide, "python");
    let javascript = example(&guide, "javascript");
    for (case, body, signatures, at, expected) in cases {
        let headers = serde_json::json!({
            "webhook-id": id,
            "webhook-timestamp": at.to_string(),
            "webhook-signature": signatures,
        });
        let input =
            serde_json::json!({"secret": secret, "headers": headers, "body": body}).to_string();
        let py = format!(
            "{python}\nimport json, sys\ni = json.load(sys.stdin)\nprint(str(verify_keyport_webhook(i['secret'], i['headers'], i['body'].encode())).lower())\n"
        );
        let js = format!(
            "{javascript}\nconst i = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));\nconsole.log(String(verifyKeyportWebhook(i.secret, i.headers, Buffer.from(i.body))));\n"
        );
        for (program, flag, code) in [("python3", "-c", &py), ("node", "-e", &js)] {
            let answer = run(program, &[flag, code], &input);
            assert_eq!(answer, expected, "{program}, {case}");
        }
    }
}

/// Every endpoint's curl example, run in the guide's order on a fresh database with a real key,
/// succeeds: the list and create calls come before the calls on `{id}` = 1.
#[actix_web::test]
async fn every_curl_example_in_the_guide_works_as_written() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Cora Curl").await;
    let guide = app.browser().get("/docs/api").await.body;
    let calls = examples(&guide, "curl");
    let doc = openapi(&app).await;
    assert_eq!(
        calls.len(),
        operations(&doc).len(),
        "one example per operation"
    );
    for call in calls {
        let script = format!("{call} -sS -o /dev/null -w '%{{http_code}}'");
        let key = key.clone();
        let status = tokio::task::spawn_blocking(move || {
            let out = Command::new("bash")
                .args(["-c", &script])
                .env("KEYPORT_KEY", &key)
                .output()
                .expect("bash");
            String::from_utf8(out.stdout).expect("UTF-8")
        })
        .await
        .expect("join");
        assert!(status.starts_with('2'), "{call}\nanswered {status}");
    }
}

#[derive(Default)]
struct Captured {
    headers: Vec<(String, String)>,
    body: String,
}

#[actix_web::test]
async fn the_guides_curl_example_sends_a_delivery_signed_as_keyport_signs() {
    let app = TestApp::spawn().await;
    let guide = app.browser().get("/docs/api").await.body;
    let captured = Arc::new(Mutex::new(Captured::default()));
    let shared = captured.clone();
    let receiver = actix_test::start(move || {
        let shared = shared.clone();
        actix_web::App::new().default_service(web::to(move |req: HttpRequest, body: String| {
            let shared = shared.clone();
            async move {
                let mut c = shared.lock().expect("lock");
                c.headers = req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                c.body = body;
                HttpResponse::NoContent().finish()
            }
        }))
    });
    let secret = keyport::domain::keys::webhook_secret();
    let script = example(&guide, "shell")
        .replace("whsec_your_webhook_secret", &secret)
        .replace(
            "https://example.com/keyport-hooks",
            &receiver.url("/keyport-hooks"),
        );
    let status = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .status()
            .expect("bash")
    })
    .await
    .expect("join");
    assert!(status.success());

    let c = captured.lock().expect("lock");
    let header = |name: &str| {
        c.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    let timestamp: i64 = header("webhook-timestamp").parse().expect("timestamp");
    assert!(
        c.body.starts_with(r#"{"type":"contact.created""#),
        "{}",
        c.body
    );
    assert_eq!(
        header("webhook-signature"),
        sign(&secret, &header("webhook-id"), timestamp, &c.body).expect("signature")
    );
}

#[actix_web::test]
async fn the_guides_sample_delivery_is_really_signed_with_the_sample_secret() {
    let app = TestApp::spawn().await;
    let guide = app.browser().get("/docs/api").await.body;
    let sample = example(&guide, "delivery");
    let header = |name: &str| {
        sample
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    let body = sample.lines().last().expect("body");
    let marker = "with the secret <code>";
    let secret_start = guide.find(marker).expect("secret") + marker.len();
    let secret = &guide[secret_start..][..guide[secret_start..].find("</code>").expect("end")];
    assert!(secret.starts_with("whsec_"), "{secret}");
    let python = example(&guide, "python").replace("5 * 60", "10**12");
    let input = serde_json::json!({
        "secret": secret,
        "headers": {
            "webhook-id": header("webhook-id"),
            "webhook-timestamp": header("webhook-timestamp"),
            "webhook-signature": header("webhook-signature"),
        },
        "body": body,
    })
    .to_string();
    let py = format!(
        "{python}\nimport json, sys\ni = json.load(sys.stdin)\nprint(str(verify_keyport_webhook(i['secret'], i['headers'], i['body'].encode())).lower())\n"
    );
    assert_eq!(run("python3", &["-c", &py], &input), "true");
}
