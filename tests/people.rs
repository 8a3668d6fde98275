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
    assert!(page.contains(&format!("href=\"/admin/people/{}\"", quiet.id)));
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
    let next = first.next_link().expect("a next page");
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

fn audit_actions(
    app: &TestApp,
    subject: keyport::models::UserId,
) -> Vec<(String, Option<String>, Option<String>)> {
    use keyport::db::schema::audit_events;
    app.with_conn(|c| {
        audit_events::table
            .filter(audit_events::subject_id.eq(subject))
            .order(audit_events::id.asc())
            .select((audit_events::action, audit_events::ip, audit_events::detail))
            .load(c)
    })
    .expect("audit")
}

#[actix_web::test]
async fn a_role_change_is_confirmed_audited_and_applies_on_the_next_request_on_every_instance() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let (sam, sam_here) = app.signed_in(Role::User, "Sam Soon").await;
    let person = format!("/admin/people/{}", sam.id);

    let page = admin.get(&person).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("<h1>Sam Soon <span class=\"badge badge-Active\">Active</span></h1>"));
    // Both ways between People and API Management.
    let api_management = format!("/admin/api-management/users/{}", sam.id);
    assert!(page.contains(&format!("href=\"{api_management}\"")));
    assert!(
        admin
            .get(&api_management)
            .await
            .contains(&format!("href=\"{person}\""))
    );

    // Choosing a role asks first and changes nothing yet.
    let confirm = admin.get(&format!("{person}/role?role=support")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.contains("Make Sam Soon a Support?"));
    assert_eq!(sam_here.get("/admin/api-management").await.status, 403);
    assert_eq!(
        admin.get(&format!("{person}/role?role=owner")).await.status,
        422
    );

    // Promoted: API Management opens on Sam's next request, here and on another instance.
    let other = crate::support::serve(&app.database_url, &[]);
    other.wait_until_listening().await;
    let sam_there = sam_here.on(&other.base);
    let done = admin
        .post(&format!("{person}/role"), &[("role", "support")])
        .await;
    assert_eq!(done.status, 303);
    assert!(
        admin
            .get(&person)
            .await
            .contains("Sam Soon is now Support.")
    );
    assert_eq!(sam_here.get("/admin/api-management").await.status, 200);
    assert_eq!(sam_there.get("/admin/api-management").await.status, 200);
    // Demoted: 403 at once, on both.
    admin
        .post(&format!("{person}/role"), &[("role", "user")])
        .await;
    assert_eq!(sam_here.get("/admin/api-management").await.status, 403);
    assert_eq!(sam_there.get("/admin/people").await.status, 403);

    let trail = audit_actions(&app, sam.id);
    let changes: Vec<_> = trail
        .iter()
        .filter(|(action, _, _)| action == "user.role_changed")
        .map(|(_, ip, detail)| (ip.clone(), detail.clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (Some("127.0.0.1".into()), Some("User → Support".into())),
            (Some("127.0.0.1".into()), Some("Support → User".into())),
        ]
    );
    let history = admin.get(&person).await;
    assert!(history.contains("Changed the role") && history.contains("Ada Admin"));
    // A bad role on the POST changes nothing.
    let bad = admin
        .post(&format!("{person}/role"), &[("role", "root")])
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(audit_actions(&app, sam.id).len(), trail.len());
}

#[actix_web::test]
async fn disabling_ends_sessions_and_stops_keys_and_enabling_brings_them_back() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let (dee, key) = app.user_with_key("Dee Disabled").await;
    let dee_browser = app.browser();
    assert_eq!(
        dee_browser
            .sign_in(&dee.email, crate::support::PASSWORD)
            .await
            .status,
        303
    );
    let person = format!("/admin/people/{}", dee.id);

    let confirm = admin.get(&format!("{person}/disable")).await;
    assert!(confirm.contains("Disable Dee Disabled’s account?"));
    assert!(confirm.contains("Their key stops working"));
    let done = admin.post(&format!("{person}/disable"), &[]).await;
    assert_eq!(done.status, 303);
    let page = admin.get(&person).await;
    assert!(page.contains("Dee Disabled’s account is disabled"));
    assert!(page.contains("badge-Disabled"));
    assert_eq!(dee_browser.get("/settings").await.status, 303, "signed out");
    assert_eq!(app.api().get_me(&key).await.status(), 401);
    assert_eq!(
        app.browser()
            .sign_in(&dee.email, crate::support::PASSWORD)
            .await
            .status,
        403
    );
    // No reset link for a disabled account.
    let refused = admin.post(&format!("{person}/password-reset"), &[]).await;
    assert_eq!(refused.status, 409);
    assert!(refused.contains("disabled: enable it first"));

    assert!(
        admin
            .get(&format!("{person}/enable"))
            .await
            .contains("Enable Dee Disabled’s account?")
    );
    assert_eq!(
        admin.post(&format!("{person}/enable"), &[]).await.status,
        303
    );
    assert_eq!(app.api().get_me(&key).await.status(), 200);
    assert_eq!(
        app.browser()
            .sign_in(&dee.email, crate::support::PASSWORD)
            .await
            .status,
        303
    );
    let actions: Vec<String> = audit_actions(&app, dee.id)
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert!(
        actions.ends_with(&["user.disabled".to_owned(), "user.enabled".to_owned()]),
        "the refused reset left no trace: {actions:?}"
    );
}

#[actix_web::test]
async fn the_last_active_admin_cannot_demote_or_disable_themself() {
    let app = TestApp::spawn().await;
    let (ada, admin) = app.signed_in(Role::Admin, "Ada Alone").await;
    let me = format!("/admin/people/{}", ada.id);
    let demote = admin.post(&format!("{me}/role"), &[("role", "user")]).await;
    assert_eq!(demote.status, 409);
    assert!(demote.contains("you are the last active one"));
    let disable = admin.post(&format!("{me}/disable"), &[]).await;
    assert_eq!(disable.status, 409);
    assert_eq!(
        admin.get("/admin/people").await.status,
        200,
        "still an admin"
    );
    // A disabled or invited admin does not count.
    let off = app.create_user(Role::Admin, "Otto Off");
    app.set_disabled(off.id, true);
    assert_eq!(
        admin
            .post(&format!("{me}/role"), &[("role", "user")])
            .await
            .status,
        409
    );
    // With a second active admin, demoting oneself works.
    app.create_user(Role::Admin, "Bea Backup");
    assert_eq!(
        admin
            .post(&format!("{me}/role"), &[("role", "support")])
            .await
            .status,
        303
    );
    assert_eq!(admin.get("/admin/api-management").await.status, 200);
    assert_eq!(
        admin.get(&format!("{me}/role?role=admin")).await.status,
        403
    );
    // The command line keeps the same rule.
    let bea = app.user_named("Bea Backup");
    let refused = app.with_conn(|c| {
        keyport::domain::people::change_role(
            c,
            keyport::domain::audit::By::CommandLine,
            bea,
            Role::User,
        )
    });
    assert!(
        matches!(refused, Err(keyport::domain::Error::Conflict(_))),
        "{refused:?}"
    );
}

#[actix_web::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    use keyport::domain::audit::{Actor, By};
    use keyport::domain::people;
    let app = TestApp::spawn().await;
    for round in 0..10 {
        let a = app.create_user(Role::Admin, &format!("Ann {round}"));
        let b = app.create_user(Role::Admin, &format!("Ben {round}"));
        // Only these two are active admins.
        app.with_conn(|c| {
            diesel::update(
                users::table
                    .filter(users::id.ne_all([a.id, b.id]))
                    .filter(users::role.eq("admin")),
            )
            .set(users::role.eq("user"))
            .execute(c)
        })
        .expect("only two admins");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let demote = |actor: keyport::models::UserId, target: keyport::models::UserId| {
            let (db, barrier) = (app.db.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = db.get().expect("conn");
                barrier.wait();
                let actor = Actor {
                    id: actor,
                    ip: None,
                };
                people::change_role(&mut conn, By::Person(&actor), target, Role::User)
            })
        };
        let (one, two) = (demote(a.id, b.id), demote(b.id, a.id));
        let results = [one.join().expect("thread"), two.join().expect("thread")];
        let admins: i64 = app
            .with_conn(|c| {
                users::table
                    .filter(users::role.eq("admin"))
                    .filter(users::disabled_at.is_null())
                    .count()
                    .get_result(c)
            })
            .expect("count");
        assert_eq!(admins, 1, "round {round}: {results:?}");
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
    }
}

#[actix_web::test]
async fn support_reads_a_persons_page_without_forms_and_their_posts_are_refused() {
    let app = TestApp::spawn().await;
    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;
    let (_, user) = app.signed_in(Role::User, "Ulla User").await;
    let target = app.create_user(Role::User, "Tara Target");
    let person = format!("/admin/people/{}", target.id);
    let page = support.get(&person).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Tara Target") && page.contains("History"));
    assert!(
        !page.contains(&format!("action=\"{person}")),
        "no form for support: {}",
        page.body
    );
    for path in ["role?role=admin", "disable", "enable", "password-reset"] {
        assert_eq!(
            support.get(&format!("{person}/{path}")).await.status,
            403,
            "{path}"
        );
    }
    for (path, fields) in [
        ("role", vec![("role", "admin")]),
        ("disable", vec![]),
        ("enable", vec![]),
        ("password-reset", vec![]),
    ] {
        assert_eq!(
            support
                .post(&format!("{person}/{path}"), &fields)
                .await
                .status,
            403,
            "{path}"
        );
        assert_eq!(
            user.post(&format!("{person}/{path}"), &fields).await.status,
            403,
            "{path}"
        );
    }
    assert_eq!(user.get(&person).await.status, 403);
    assert_eq!(support.get("/admin/people/999999").await.status, 404);
    assert_eq!(support.get("/admin/people/not-a-number").await.status, 404);
    let untouched = app
        .with_conn(|c| {
            users::table
                .find(target.id)
                .select((users::role, users::disabled_at.is_null()))
                .first::<(String, bool)>(c)
        })
        .expect("target");
    assert_eq!(untouched, ("user".to_owned(), true));
}
