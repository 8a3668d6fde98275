//! Advanced Settings → People: everyone with an account, for admins and support staff.

use diesel::prelude::*;
use keyport::db::schema::users;
use keyport::models::Role;

use crate::support::TestApp;

#[actix_web::test]
async fn staff_see_everyone_with_role_state_access_and_keys_searched_and_paged() {
    let app = TestApp::spawn().await;
    let (_, support) = app.signed_in(Role::Support, "Sue Staff").await;
    let quiet = app.create_user(Role::User, "Quentin Quiet");
    let (_, _) = app.user_with_key("Kim Keyed").await;
    let gone = app.create_user(Role::User, "Dora Disabled");
    app.with_conn(|c| {
        diesel::update(users::table.find(gone.id))
            .set(users::disabled_at.eq(keyport::db::now()))
            .execute(c)
    })
    .expect("disable");

    let page = support.get("/admin/people").await;
    assert_eq!(page.status, 200);
    // Not only people with API Access: everyone, with what they are.
    assert!(page.contains("Quentin Quiet") && page.contains(&quiet.email));
    assert!(page.contains("Kim Keyed") && page.contains("Dora Disabled"));
    assert!(page.contains(r#"<span class="badge badge-Disabled">Disabled</span>"#));
    assert!(page.contains(r#"<td data-label="Role">Support</td>"#));
    assert!(page.contains(r#"<td data-label="API Access">On</td>"#));
    assert!(page.contains(r#"<td data-label="Keys">1</td>"#));
    assert!(page.contains(&format!(
        "href=\"/admin/api-management/users/{}\"",
        quiet.id
    )));
    assert!(
        !page.contains("method=\"post\" action=\"/admin"),
        "support changes nothing here"
    );
    // The API Management list still shows only people with API Access.
    let api_management = support.get("/admin/api-management").await;
    assert!(api_management.contains("Kim Keyed"));
    assert!(!api_management.contains("Quentin Quiet"));

    // Search by the start of a name or an email, case-insensitively.
    let found = support.get("/admin/people?q=QUEN").await;
    assert!(found.contains("Quentin Quiet") && !found.contains("Kim Keyed"));
    let htmx = support.get_htmx("/admin/people?q=dora").await;
    assert!(
        htmx.body.starts_with("<div id=\"people-list\">"),
        "{}",
        htmx.body
    );
    assert!(htmx.contains("Dora Disabled"));
    let none = support.get("/admin/people?q=nobody-like-this").await;
    assert!(none.contains("Nobody has a name or email starting with"));
    assert_eq!(support.get("/admin/people?after=x").await.status, 400);
    assert_eq!(support.get("/admin/people?sort=name").await.status, 400);

    // Paged, newest first: 50 a page, each person once.
    for n in 0..50 {
        app.create_user(Role::User, &format!("Paged Person {n:02}"));
    }
    let first = support.get("/admin/people").await;
    let next = first
        .body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .replace("&#38;", "&");
    assert!(first.contains("Paged Person 49") && !first.contains("Quentin Quiet"));
    let second = support.get(&next).await;
    assert!(
        second.contains("Quentin Quiet") && second.contains("Sue Staff"),
        "{next}: {}",
        second.body
    );
    assert!(!second.contains("Paged Person 49"));
    let rows = |body: &str| body.matches("<td data-label=\"Name\">").count();
    assert_eq!(rows(&first.body) + rows(&second.body), 54);

    // Users do not see it.
    let (_, user) = app.signed_in(Role::User, "Ulla User").await;
    assert_eq!(user.get("/admin/people").await.status, 403);
}
