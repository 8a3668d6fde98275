//! Advanced Settings → API Management.

use keyport::db::{now, write_transaction};
use keyport::models::api_key::Revocation;
use keyport::models::user::normalize;
use keyport::models::{ApiKeyRow, NewApiKey, NewUser, RevokeReason, Role, User, UserId};

use crate::support::{Page, TestApp};

/// The user ids listed on an API Management page, in order.
fn listed_ids(page: &Page) -> Vec<i64> {
    let marker = "href=\"/admin/api-management/users/";
    page.body
        .match_indices(marker)
        .map(|(i, _)| {
            let rest = &page.body[i + marker.len()..];
            rest[..rest.find('"').expect("end of link")]
                .parse()
                .expect("numeric id")
        })
        .collect()
}

/// Generated people: user N is "Person N" <personN@bulk.test>. Every third has no key, every
/// fifth key is revoked. Returns the ids of users with an active key, newest key first.
fn seed(app: &TestApp, count: usize) -> Vec<(i64, String)> {
    let hash = keyport::domain::accounts::hash_password("bulk password 123").expect("hash");
    let mut active = Vec::new();
    app.with_conn(|c| {
        write_transaction(c, |c| {
            for n in 0..count {
                let email = format!("person{n:05}@bulk.test");
                let name = format!("Person {n:05}");
                let user = NewUser {
                    email: &email,
                    email_normalized: &normalize(&email),
                    name: &name,
                    password_hash: &hash,
                    role: Role::User,
                    created_at: now(),
                    invited_at: None,
                }
                .insert(c)?;
                if n % 3 == 0 {
                    continue;
                }
                let key_hash = *blake3::hash(email.as_bytes()).as_bytes();
                NewApiKey {
                    prefix: "kp_bulk00",
                    key_hash: &key_hash,
                    ..NewApiKey::default_key(user.id, now())
                }
                .insert(c)?;
                User::set_api_access(c, user.id, Some(now()))?;
                if n % 5 == 0 {
                    User::set_api_access(c, user.id, None)?;
                    ApiKeyRow::revoke_active(
                        c,
                        user.id,
                        &Revocation::new(RevokeReason::TurnedOff, user.id, None, now()),
                    )?;
                } else {
                    active.push((user.id.0, email));
                }
            }
            Ok::<_, diesel::result::Error>(())
        })
    })
    .expect("seed users");
    active.reverse();
    active
}

#[actix_web::test]
async fn search_and_pagination_over_generated_users_return_the_right_rows() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let active = seed(&app, 3000);
    let expected: Vec<i64> = active.iter().map(|(id, _)| *id).collect();

    // Every page, following "Next page", lists every user with API Access on exactly once,
    // newest key first.
    let mut seen = Vec::new();
    let mut page = admin.get("/admin/api-management").await;
    assert_eq!(page.status, 200);
    let mut pages = 1;
    loop {
        let ids = listed_ids(&page);
        assert!(ids.len() <= 50);
        seen.extend(ids);
        match page.next_link() {
            Some(next) => {
                page = admin.get(&next).await;
                assert_eq!(page.status, 200);
                pages += 1;
                assert!(pages <= 100, "pagination does not end: {next}");
            }
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, expected.len().div_ceil(50));

    // Search by the start of an email, any case: exactly the matching people with a key, in
    // email order (here, the order they were created in).
    let matching = |prefix: &str| {
        let mut ids: Vec<i64> = active
            .iter()
            .filter(|(_, e)| e.starts_with(prefix))
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    };
    let page = admin.get("/admin/api-management?q=PERSON0123").await;
    let want = matching("person0123");
    assert!(!want.is_empty());
    assert_eq!(listed_ids(&page), want);

    // Search by the start of a name, and page through a search.
    let page = admin.get("/admin/api-management?q=person%20001").await;
    let want = matching("person001");
    let mut seen = listed_ids(&page);
    let mut next = page.next_link();
    while let Some(url) = next {
        assert!(
            seen.len() <= want.len(),
            "search pagination does not end: {url}"
        );
        assert!(
            url.contains("q=person+001") || url.contains("q=person%20001"),
            "{url}"
        );
        let page = admin.get(&url).await;
        seen.extend(listed_ids(&page));
        next = page.next_link();
    }
    assert!(want.len() > 50, "the search should span pages");
    assert_eq!(seen, want);

    // No match: an empty state that says so.
    let page = admin.get("/admin/api-management?q=nobody-like-this").await;
    assert!(listed_ids(&page).is_empty());
    assert!(page.contains("Nobody with API Access on"));

    // htmx gets the table alone.
    let section = admin.get_htmx("/admin/api-management?q=person0001").await;
    assert!(
        section
            .body
            .trim_start()
            .starts_with("<div id=\"key-list\">")
    );
}

#[actix_web::test]
async fn bad_list_parameters_get_a_clear_error() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let page = admin.get("/admin/api-management?after=abc").await;
    assert_eq!(page.status, 400);
    assert!(page.contains("The address is not valid"));
    let long = "a".repeat(300);
    let page = admin.get(&format!("/admin/api-management?q={long}")).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Search: enter at most 254"));
}

#[actix_web::test]
async fn the_user_page_shows_key_state_audit_trail_and_webhooks() {
    use keyport::models::{Entity, NewWebhook, OperationType, WebhookStatus};
    let app = TestApp::spawn().await;
    let (uma, user_browser) = app.signed_in(Role::User, "Uma User").await;
    let key = user_browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    app.with_conn(|c| {
        NewWebhook {
            user_id: uma.id,
            url: "https://hooks.example.com/contacts",
            entity: Entity::Contact,
            operation_type: OperationType::Update,
            status: WebhookStatus::Off,
            secret: &keyport::domain::keys::webhook_secret(),
            created_at: now(),
        }
        .insert(c)
    })
    .expect("webhook");

    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let list = admin.get("/admin/api-management").await;
    assert!(list.contains(&uma.email));
    assert!(list.contains(&format!("{}…", &key[..9])));

    let url = format!("/admin/api-management/users/{}", uma.id);
    let page = admin.get(&url).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("API Access is <strong>on</strong>"));
    assert!(page.contains("https://hooks.example.com/contacts"));
    for column in ["URL", "Entity", "Operation Type", "Status"] {
        assert!(
            page.contains(&format!("<th scope=\"col\">{column}</th>")),
            "{column}"
        );
    }
    assert!(page.contains(r#"<td data-label="Entity">Contact</td>"#));
    assert!(page.contains(r#"<td data-label="Operation Type">Update</td>"#));
    assert!(page.contains("badge-Off"));
    assert!(page.contains("Enabled API Access"));
    assert!(page.contains(&format!("href=\"{url}/clear\">Clear API Key")));

    // Clear API Key: a confirmation, then the key fails and the audit trail shows who did it.
    let confirm = admin.get(&format!("{url}/clear")).await;
    assert!(confirm.contains("Clear API Key?"));
    assert!(confirm.contains("stays off until they enable it again"));
    let done = admin.post(&format!("{url}/clear"), &[("reason", "")]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), url);
    let page = admin.get(&url).await;
    assert!(page.contains("API key cleared."));
    assert!(page.contains("API Access is <strong>off</strong>"));
    assert!(
        page.contains(r#"Cleared API Key</td><td data-label="Who">Ada Admin</td><td data-label="From">127.0.0.1</td>"#),
        "{}",
        page.body
    );
    assert_eq!(app.api().get_me(&key).await.status(), 401);
    let list = admin.get("/admin/api-management").await;
    assert!(!list.contains(&uma.email));

    // Clearing again is a conflict, not a second event.
    let again = admin.post(&format!("{url}/clear"), &[]).await;
    assert_eq!(again.status, 409);
}

#[actix_web::test]
async fn unknown_and_malformed_user_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    for path in [
        "/admin/api-management/users/999999",
        "/admin/api-management/users/abc",
        "/admin/api-management/users/99999999999999999999999",
        "/admin/api-management/users/-1/clear",
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.contains("404"), "{path}");
    }
    let page = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", UserId(424242)),
            &[],
        )
        .await;
    assert_eq!(page.status, 404);
    let page = admin.post("/admin/api-management/users/x/clear", &[]).await;
    assert_eq!(page.status, 404);
}

#[actix_web::test]
async fn search_finds_people_by_any_word_and_lists_each_once() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let mut ids = Vec::new();
    for (email, name) in [
        ("grace@grace.test", "Grace Grace Hopper"),
        ("g.hopper@navy.test", "Grace Hopper"),
        ("alan@turing.test", "Alan Turing"),
    ] {
        let user = keyport::domain::accounts::create_user(
            &mut app.conn(),
            &keyport::domain::accounts::NewAccount {
                email,
                name,
                role: Role::User,
                password: crate::support::PASSWORD,
            },
        )
        .expect("user");
        let actor = keyport::domain::audit::Actor {
            id: user.id,
            ip: None,
        };
        keyport::domain::api_access::enable(&mut app.conn(), &actor).expect("enable");
        ids.push(user.id.0);
    }
    let search = |q: &'static str| {
        let admin = &admin;
        async move { listed_ids(&admin.get(&format!("/admin/api-management?q={q}")).await) }
    };
    // "grace" matches Grace Grace Hopper by email, domain, name and a later word: listed once.
    assert_eq!(search("grace").await, vec![ids[0], ids[1]]);
    assert_eq!(search("hopper").await, vec![ids[0], ids[1]]);
    assert_eq!(search("navy.test").await, vec![ids[1]]);
    assert_eq!(search("TURING").await, vec![ids[2]]);
    assert_eq!(search("ring").await, Vec::<i64>::new());
}
