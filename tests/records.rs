//! The records API: contacts, companies and jobs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestApp;

#[actix_web::test]
async fn contacts_can_be_created_read_listed_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (user, key) = app.user_with_key("Rhea Records").await;

    let (status, company) = api
        .call(
            &key,
            Method::POST,
            "/api/v1/companies",
            Some(json!({"name": " Acme ", "website": "https://acme.example"})),
        )
        .await;
    assert_eq!(status, 201, "{company}");
    assert_eq!(company["name"], "Acme");
    let company_id = company["id"].as_i64().expect("id");

    let (status, contact) = api
        .call(&key, Method::POST, "/api/v1/contacts", Some(json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000", "company_id": company_id})))
        .await;
    assert_eq!(status, 201, "{contact}");
    let id = contact["id"].as_i64().expect("id");
    assert_eq!(contact["company_id"], company_id);
    assert_eq!(contact["created_by"], user.id.0);
    for field in ["created_at", "updated_at"] {
        let text = contact[field].as_str().expect("a time");
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'),
            "{field}: {text}"
        );
    }

    let (status, got) = api
        .call(&key, Method::GET, &format!("/api/v1/contacts/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, contact);

    // PATCH changes what it names; null clears an optional field.
    let (status, changed) = api
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"last_name": "King", "phone": null})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["last_name"], "King");
    assert_eq!(changed["first_name"], "Ada");
    assert_eq!(changed["phone"], Value::Null);
    assert_eq!(changed["email"], "ada@example.com");

    // Another user's change is recorded as theirs.
    let (other, other_key) = app.user_with_key("Otis Other").await;
    let (_, changed) = api
        .call(
            &other_key,
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"first_name": "Augusta"})),
        )
        .await;
    assert_eq!(changed["updated_by"], other.id.0);
    assert_eq!(changed["created_by"], user.id.0);

    // A required field cannot be cleared with null; surrounding tabs and line breaks are trimmed.
    let (status, answer) = api
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"first_name": null})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let (status, changed) = api
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"first_name": "\tAugusta Ada\r\n"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["first_name"], "Augusta Ada");

    let (status, _) = api
        .call(
            &key,
            Method::DELETE,
            &format!("/api/v1/contacts/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = api
        .call(&key, Method::GET, &format!("/api/v1/contacts/{id}"), None)
        .await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    let (status, _) = api
        .call(
            &key,
            Method::DELETE,
            &format!("/api/v1/contacts/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Jobs default to open. An id written as a whole float is an integer, as JSON Schema has it.
    let (status, job) = api
        .call(
            &key,
            Method::POST,
            "/api/v1/jobs",
            Some(json!({"title": "Engineer", "company_id": company_id as f64})),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["status"], "open");
    assert_eq!(job["company_id"], company_id);
    let (status, job) = api
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/jobs/{}", job["id"]),
            Some(json!({"status": "on_hold"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(job["status"], "on_hold");
}

#[actix_web::test]
async fn lists_page_with_a_cursor() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, key) = app.user_with_key("Pia Pages").await;
    let mut created = Vec::new();
    for n in 0..7 {
        let (_, company) = api
            .call(
                &key,
                Method::POST,
                "/api/v1/companies",
                Some(json!({"name": format!("Company {n}")})),
            )
            .await;
        created.push(company["id"].as_i64().expect("id"));
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/companies?limit=3".to_owned();
    loop {
        let (status, page) = api.call(&key, Method::GET, &path, None).await;
        assert_eq!(status, 200);
        let data = page["data"].as_array().expect("data");
        assert!(data.len() <= 3);
        seen.extend(data.iter().map(|c| c["id"].as_i64().expect("id")));
        match page["next_after"].as_i64() {
            Some(after) => path = format!("/api/v1/companies?limit=3&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, created);

    for bad in [
        "?limit=0",
        "?limit=101",
        "?limit=x",
        "?after=x",
        "?color=red",
    ] {
        let (status, body) = api
            .call(&key, Method::GET, &format!("/api/v1/companies{bad}"), None)
            .await;
        assert!(status == 400 || status == 422, "{bad}: {status}");
        assert!(body["error"].is_string(), "{bad}");
    }
}

#[actix_web::test]
async fn bad_input_gets_422_with_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, key) = app.user_with_key("Val Validation").await;
    let cases = [
        (
            "/api/v1/contacts",
            json!({"last_name": "Only"}),
            Some("first_name"),
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "  ", "last_name": "Blank"}),
            Some("first_name"),
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "A", "last_name": "B", "email": "not-an-email"}),
            Some("email"),
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "A", "last_name": "B", "phone": "call me"}),
            Some("phone"),
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "A\u{7}", "last_name": "B"}),
            Some("first_name"),
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": null, "last_name": "B"}),
            None,
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "A", "last_name": "B", "company_id": 1.5}),
            None,
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "x".repeat(101), "last_name": "B"}),
            Some("first_name"),
        ),
        (
            "/api/v1/companies",
            json!({"name": "Acme", "website": "ftp://acme.example"}),
            Some("website"),
        ),
        ("/api/v1/companies", json!({}), Some("name")),
        (
            "/api/v1/jobs",
            json!({"title": "T", "status": "paused"}),
            None,
        ),
        ("/api/v1/jobs", json!({"title": "T", "colour": "red"}), None),
        ("/api/v1/jobs", json!({"title": 5}), None),
        ("/api/v1/jobs", json!([1, 2]), None),
    ];
    for (path, body, field) in cases {
        let (status, answer) = api.call(&key, Method::POST, path, Some(body.clone())).await;
        assert_eq!(status, 422, "{path} {body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
        if let Some(field) = field {
            assert_eq!(answer["field"], field, "{path} {body}");
        }
    }
    // A reference to a company that does not exist is a 404 naming the field, as JSON:API has it.
    let (status, answer) = api
        .call(
            &key,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "A", "last_name": "B", "company_id": 999999})),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["field"], "company_id");
    assert_eq!(answer["error"], "company_id: there is no company 999999");
    // Nothing was created.
    for path in ["/api/v1/contacts", "/api/v1/companies", "/api/v1/jobs"] {
        let (_, page) = api.call(&key, Method::GET, path, None).await;
        assert_eq!(page["data"], json!([]), "{path}");
    }

    // Not JSON at all.
    let response = api
        .request(Method::POST, "/api/v1/contacts")
        .header("X-Api-Key", &key)
        .body("first_name=A")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 415);
    let response = api
        .request(Method::POST, "/api/v1/contacts")
        .header("X-Api-Key", &key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);

    // A JSON array is not an object, even where every field may be left out.
    let (status, answer) = api
        .call(&key, Method::POST, "/api/v1/jobs", Some(json!([])))
        .await;
    assert_eq!(status, 422);
    assert_eq!(answer["error"], "The JSON body must be an object.");
    let (status, _) = api
        .call(&key, Method::POST, "/api/v1/jobs", Some(json!(["T"])))
        .await;
    assert_eq!(status, 422);

    // Query parameters the endpoint does not take are refused, not ignored; the key may be one.
    let (status, answer) = api
        .call(&key, Method::GET, "/api/v1/contacts?limt=5", None)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        "Unknown query parameter `limt`; see /docs/api for what this endpoint takes."
    );
    let (status, _) = api
        .call(
            &key,
            Method::POST,
            "/api/v1/jobs?dry_run=1",
            Some(json!({"title": "T"})),
        )
        .await;
    assert_eq!(status, 400);
    let response = api
        .get(&format!("/api/v1/contacts?limit=5&api_key={key}"))
        .await;
    assert_eq!(response.status(), 200);

    // Ids that are not ids.
    for path in [
        "/api/v1/contacts/abc",
        "/api/v1/contacts/99999999999999999999",
        "/api/v1/jobs/1.5",
    ] {
        let (status, _) = api.call(&key, Method::GET, path, None).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[actix_web::test]
async fn the_records_api_needs_a_key() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/api/v1/contacts"),
        (Method::POST, "/api/v1/companies"),
        (Method::DELETE, "/api/v1/jobs/1"),
    ] {
        let response = app
            .api()
            .request(method, path)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), 401, "{path}");
    }
}
