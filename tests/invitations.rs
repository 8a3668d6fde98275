//! Invitations: an admin invites a person by email; the mail arrives through a real SMTP
//! server; its one-time link sets a password and signs them in with the invited role.

use diesel::prelude::*;
use keyport::db::schema::{account_links, audit_events, mails, users};
use keyport::models::Role;

use crate::support::{Browser, PUBLIC_URL, SmtpServer, TestApp, captured_logs, send_all};

const NEW_PASSWORD: &str = "velvet harbour lantern";

/// The path of the one link in the newest mail to `to`.
pub fn link_in_mail(smtp: &SmtpServer, count: usize, to: &str, page: &str) -> String {
    let mails = smtp.wait_for(count);
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.to == vec![to.to_owned()])
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let text = mail.text();
    let start = text
        .find(&format!("{PUBLIC_URL}{page}"))
        .unwrap_or_else(|| panic!("no {page} link in:\n{text}"));
    text[start + PUBLIC_URL.len()..]
        .split_whitespace()
        .next()
        .expect("the link")
        .trim_end_matches(['>', ')', '.'])
        .to_owned()
}

fn user_count(app: &TestApp) -> i64 {
    app.with_conn(|c| users::table.count().get_result(c))
        .expect("count")
}

#[actix_web::test]
async fn an_invited_person_gets_the_mail_sets_a_password_once_and_is_signed_in_with_the_role() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (_, admin) = app.signed_in(Role::Admin, "Ida Inviter").await;

    let form = admin.get("/admin/people/invitations").await;
    assert!(form.contains("Invite a person"));
    let sent = admin
        .post(
            "/admin/people/invitations",
            &[
                ("name", "Nia Newcomer"),
                ("email", "Nia@Example.com"),
                ("role", "support"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.location(), "/admin/people/invitations");
    let listed = admin.get("/admin/people/invitations").await;
    assert!(listed.contains("Invitation sent to Nia@Example.com"));
    assert!(listed.contains("Nia Newcomer") && listed.contains("Works until"));
    let people = admin.get("/admin/people?q=nia").await;
    assert!(people.contains(r#"<span class="badge badge-Invited">Invited</span>"#));

    // Not yet accepted: no password works.
    let early = app.browser().sign_in("nia@example.com", "").await;
    assert_eq!(early.status, 401);

    assert_eq!(send_all(&mailer).await, 1);
    let link = link_in_mail(&smtp, 1, "Nia@Example.com", "/invitations/");
    let mail = &smtp.received()[0];
    assert_eq!(mail.subject(), "keyport: you are invited");
    assert!(mail.text().contains("Ida Inviter invited you"));
    // Sent, the mail kept in the outbox no longer holds the link's secret.
    let token = link.trim_start_matches("/invitations/");
    let stored: Vec<String> = app
        .with_conn(|c| mails::table.select(mails::content).load(c))
        .expect("mails");
    assert!(stored.iter().all(|content| !content.contains(token)));
    // Only the hash is kept.
    let hashes: Vec<Vec<u8>> = app
        .with_conn(|c| {
            account_links::table
                .select(account_links::token_hash)
                .load(c)
        })
        .expect("links");
    assert_eq!(
        hashes,
        vec![blake3::hash(token.as_bytes()).as_bytes().to_vec()]
    );

    let nia = app.browser();
    let page = nia.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Welcome to keyport, Nia Newcomer"));
    assert!(page.contains("invited as <strong>Support</strong>"));
    // Two different entries, and a short password: the form again, nothing used up.
    let differ = nia
        .post(
            &link,
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", "other words here"),
            ],
        )
        .await;
    assert_eq!(differ.status, 422);
    assert!(differ.contains("the two entries differ"));
    let short = nia
        .post(
            &link,
            &[("new_password", "short"), ("confirm_password", "short")],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.contains("Password: use 12 to"));

    let accepted = nia
        .post(
            &link,
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(accepted.location(), "/settings");
    let home = nia.get("/settings").await;
    assert!(home.contains("Welcome to keyport, Nia Newcomer."));
    // Signed in as support: API Management opens, its forms do not.
    assert_eq!(nia.get("/admin/api-management").await.status, 200);
    assert_eq!(nia.get("/admin/people/invitations").await.status, 200);
    let listed = admin.get("/admin/people/invitations").await;
    assert!(listed.contains("No invitations are waiting."));
    assert!(
        admin
            .get("/admin/people?q=nia")
            .await
            .contains(r#"<span class="badge badge-Active">Active</span>"#)
    );
    // The password works from another browser.
    assert_eq!(
        app.browser()
            .sign_in("nia@example.com", NEW_PASSWORD)
            .await
            .status,
        303
    );

    // The link works once.
    let again = app.browser().get(&link).await;
    assert_eq!(again.status, 410);
    assert!(again.contains("already been used"));
    let replay = app
        .browser()
        .post(
            &link,
            &[
                ("new_password", "another long password"),
                ("confirm_password", "another long password"),
            ],
        )
        .await;
    assert_eq!(replay.status, 410);
    assert_eq!(
        app.browser()
            .sign_in("nia@example.com", NEW_PASSWORD)
            .await
            .status,
        303,
        "the replay changed nothing"
    );

    // The audit trail has both: who invited, and the acceptance.
    let actions: Vec<String> = app
        .with_conn(|c| {
            audit_events::table
                .order(audit_events::id.asc())
                .select(audit_events::action)
                .load(c)
        })
        .expect("audit");
    assert!(actions.contains(&"user.invited".to_owned()), "{actions:?}");
    // The link's secret never reached the log; its visits are logged with it redacted.
    let logs = captured_logs();
    assert!(
        !logs.contains(token),
        "the invitation's token reached the log"
    );
    assert!(
        logs.contains("path=/invitations/[redacted]"),
        "no redacted access-log line"
    );
    assert!(
        actions.contains(&"user.invitation_accepted".to_owned()),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn an_existing_email_an_expired_link_a_revoked_and_a_resent_invitation() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let mailer = smtp.worker(&app.db);
    let (_, admin) = app.signed_in(Role::Admin, "Ivo Inviter").await;
    let existing = app.create_user(Role::User, "Eli Existing");
    let before = user_count(&app);

    // An email that already has an account (in any case) is refused; nothing is made.
    let refused = admin
        .post(
            "/admin/people/invitations",
            &[
                ("name", "Eli Again"),
                ("email", &existing.email.to_uppercase()),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(refused.status, 409);
    assert!(refused.contains("already has an account"));
    assert!(
        refused.contains("value=\"Eli Again\""),
        "what was typed stays"
    );
    for (fields, error) in [
        (
            [
                ("name", "Bad Email"),
                ("email", "not-an-email"),
                ("role", "user"),
            ],
            "Email: enter an address",
        ),
        (
            [
                ("name", ""),
                ("email", "empty@example.com"),
                ("role", "user"),
            ],
            "Name: enter 1 to",
        ),
        (
            [
                ("name", "Bad Role"),
                ("email", "role@example.com"),
                ("role", "owner"),
            ],
            "Role: choose user, support or admin.",
        ),
    ] {
        let page = admin.post("/admin/people/invitations", &fields).await;
        assert_eq!(page.status, 422, "{fields:?}");
        assert!(page.contains(error), "{error}: {}", page.body);
    }
    assert_eq!(user_count(&app), before);
    assert_eq!(send_all(&mailer).await, 0);

    // An expired link: a clear page, not a 500, and it does not sign anyone up.
    invite(&admin, "Lou Late", "lou@example.com").await;
    send_all(&mailer).await;
    let late = link_in_mail(&smtp, 1, "lou@example.com", "/invitations/");
    app.with_conn(|c| {
        diesel::update(account_links::table)
            .set(account_links::expires_at.eq(keyport::db::now() - chrono::Duration::minutes(1)))
            .execute(c)
    })
    .expect("expire");
    let page = app.browser().get(&late).await;
    assert_eq!(page.status, 410);
    assert!(page.contains("This link expired on") && page.contains("send a new invitation"));
    let listed = admin.get("/admin/people/invitations").await;
    assert!(listed.contains(r#"<span class="badge badge-Expired">Expired</span>"#));

    // Resend: a new mail whose link works; the old one does not.
    let lou = app
        .with_conn(|c| {
            users::table
                .filter(users::email.eq("lou@example.com"))
                .select(users::id)
                .first::<i64>(c)
        })
        .expect("lou");
    let resent = admin
        .post(&format!("/admin/people/invitations/{lou}/resend"), &[])
        .await;
    assert_eq!(resent.status, 303);
    send_all(&mailer).await;
    let fresh = link_in_mail(&smtp, 2, "lou@example.com", "/invitations/");
    assert_ne!(fresh, late);
    assert_eq!(app.browser().get(&late).await.status, 410);
    assert_eq!(app.browser().get(&fresh).await.status, 200);

    // Revoke: confirmed first; then the link fails and the person is gone from People.
    let confirm = admin
        .get(&format!("/admin/people/invitations/{lou}/revoke"))
        .await;
    assert!(confirm.contains("Revoke the invitation to lou@example.com?"));
    let revoked = admin
        .post(&format!("/admin/people/invitations/{lou}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303);
    let page = app.browser().get(&fresh).await;
    assert_eq!(page.status, 410);
    assert!(!admin.get("/admin/people?q=lou").await.contains("Lou Late"));
    assert_eq!(user_count(&app), before);
    // Revoking again, or a person who was never invited: not found / refused, nothing changes.
    let twice = admin
        .post(&format!("/admin/people/invitations/{lou}/revoke"), &[])
        .await;
    assert_eq!(twice.status, 404);
    let accepted = admin
        .post(
            &format!("/admin/people/invitations/{}/revoke", existing.id),
            &[],
        )
        .await;
    assert_eq!(accepted.status, 409);
    assert_eq!(user_count(&app), before);
    // The same email can be invited again.
    assert_eq!(invite(&admin, "Lou Late", "lou@example.com").await, 303);
}

async fn invite(admin: &Browser, name: &str, email: &str) -> u16 {
    admin
        .post(
            "/admin/people/invitations",
            &[("name", name), ("email", email), ("role", "user")],
        )
        .await
        .status
}

#[actix_web::test]
async fn support_reads_invitations_and_changes_nothing_and_users_see_none() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    assert_eq!(invite(&admin, "Wes Waiting", "wes@example.com").await, 303);
    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;
    let page = support.get("/admin/people/invitations").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Wes Waiting"));
    assert!(
        !page.contains("action=\"/admin/people/invitations"),
        "support sees no form"
    );
    let before = user_count(&app);
    let posted = support
        .post(
            "/admin/people/invitations",
            &[
                ("name", "Sly Support"),
                ("email", "sly@example.com"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(posted.status, 403);
    assert_eq!(user_count(&app), before);
    let (_, user) = app.signed_in(Role::User, "Ulla User").await;
    assert_eq!(user.get("/admin/people/invitations").await.status, 403);
}
