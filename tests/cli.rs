//! The command line, run as a person would run it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use keyport::models::Role;

use crate::support::{PASSWORD, TestApp};

fn keyport(args: &[&str], database_url: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("KEYPORT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keyport");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("keyport output")
}

/// `keyport user create` with the password on standard input, as the README says.
fn user_create(
    app: &TestApp,
    email: &str,
    name: &str,
    role: Option<&str>,
    password: &str,
) -> Output {
    let mut args = vec![
        "user",
        "create",
        "--email",
        email,
        "--name",
        name,
        "--password-stdin",
    ];
    if let Some(role) = role {
        args.extend(["--role", role]);
    }
    keyport(&args, &app.database_url, &format!("{password}\n"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[actix_web::test]
async fn user_create_prints_the_new_id_and_the_user_can_sign_in() {
    let app = TestApp::spawn().await;
    let output = user_create(
        &app,
        "Cli.Admin@Example.com",
        "Cli Admin",
        Some("admin"),
        "a long enough password",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id: i64 = stdout
        .lines()
        .last()
        .expect("a last line")
        .trim()
        .parse()
        .expect("the id alone on the last line");

    let browser = app.browser();
    let page = browser
        .sign_in("cli.admin@example.com", "a long enough password")
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(browser.get("/admin/api-management").await.status, 200);
    let user = app
        .with_conn(|c| keyport::models::User::find(c, keyport::models::UserId(id)))
        .expect("query")
        .expect("user");
    assert_eq!(user.role, Role::Admin);
    assert_eq!(user.email, "Cli.Admin@Example.com");
    assert!(user.password_hash.starts_with("$argon2id$"));

    // The same email in another case is the same person.
    let again = user_create(
        &app,
        "cli.admin@example.com",
        "Again",
        None,
        "another long password",
    );
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));
}

#[actix_web::test]
async fn admins_turn_accounts_off_and_on_change_roles_and_set_passwords() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::Support, "Cal Command").await;
    let url = app.database_url.clone();
    let run = |args: &[&str], stdin: &str| keyport(args, &url, stdin);

    let off = run(&["user", "disable", &user.email], "");
    assert!(off.status.success(), "{}", stderr(&off));
    assert!(String::from_utf8_lossy(&off.stdout).contains("is turned off"));
    assert_eq!(browser.get("/settings").await.status, 303);
    assert_eq!(
        app.browser().sign_in(&user.email, PASSWORD).await.status,
        403
    );

    let on = run(&["user", "enable", &user.email], "");
    assert!(on.status.success(), "{}", stderr(&on));
    assert_eq!(browser.sign_in(&user.email, PASSWORD).await.status, 303);
    assert_eq!(browser.get("/admin/api-management").await.status, 200);

    let demoted = run(&["user", "set-role", &user.email, "user"], "");
    assert!(demoted.status.success(), "{}", stderr(&demoted));
    assert_eq!(browser.get("/admin/api-management").await.status, 403);

    let weak = run(
        &["user", "set-password", &user.email, "--password-stdin"],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("use 12 to 1024 characters"));
    assert_eq!(browser.get("/settings").await.status, 200);
    let set = run(
        &["user", "set-password", &user.email, "--password-stdin"],
        "a password from the command line\n",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(browser.get("/settings").await.status, 303);
    assert_eq!(
        app.browser()
            .sign_in(&user.email, "a password from the command line")
            .await
            .status,
        303
    );

    let nobody = run(&["user", "disable", "nobody@example.com"], "");
    assert!(!nobody.status.success());
    assert!(stderr(&nobody).contains("there is no user with the email nobody@example.com"));
}

#[actix_web::test]
async fn user_create_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let short = user_create(&app, "a@example.com", "A", None, "short");
    assert!(!short.status.success());
    assert!(stderr(&short).contains("use 12 to 1024 characters"));
    let common = user_create(&app, "a@example.com", "A", None, "1qaz2wsx3edc");
    assert!(!common.status.success());
    assert!(stderr(&common).contains("list of common passwords"));

    let bad_role = user_create(
        &app,
        "a@example.com",
        "A",
        Some("root"),
        "a long enough password",
    );
    assert!(!bad_role.status.success());
    assert!(stderr(&bad_role).contains("root"), "{}", stderr(&bad_role));

    let bad_email = user_create(&app, "not-an-email", "A", None, "a long enough password");
    assert!(!bad_email.status.success());
    assert!(stderr(&bad_email).contains("Email"));

    // Nothing was created by any of them.
    let exists = app
        .with_conn(keyport::models::User::any_exist)
        .expect("query");
    assert!(!exists);
}

#[actix_web::test]
async fn an_unknown_database_scheme_is_refused() {
    let output = keyport(&["migrate"], "mysql://localhost/keyport", "");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("unknown database URL scheme"));
}

/// `keyport seed` adds people that API Management lists, pages through and finds.
#[actix_web::test]
async fn seed_adds_people_with_api_access_that_api_management_lists() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let output = keyport(
        &["seed", "--users", "120", "--with-keys", "--webhooks", "7"],
        &app.database_url,
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "added 120 people, 120 of them with API Access on, and 7 webhooks"
    );
    let list = admin.get("/admin/api-management").await;
    assert!(list.contains("@people.example"));
    assert!(list.contains("Next page"), "120 people take three pages");
    let found = admin.get("/admin/api-management?q=ada.turing").await;
    assert!(
        found.contains("ada.turing20@people.example"),
        "{}",
        found.body
    );
    // The first seven have a webhook each, Off, that their page in API Management lists.
    let first: (i64, i64) = app.with_conn(|c| {
        use diesel::prelude::*;
        use keyport::db::schema::{users, webhooks};
        let first = users::table
            .filter(users::email.like("%@people.example"))
            .order(users::id.asc())
            .select(users::id)
            .first::<i64>(c)
            .expect("the first seeded person");
        let hooks = webhooks::table
            .filter(webhooks::status.eq("Off"))
            .count()
            .get_result::<i64>(c)
            .expect("webhooks");
        (first, hooks)
    });
    assert_eq!(first.1, 7);
    let page = admin
        .get(&format!("/admin/api-management/users/{}", first.0))
        .await;
    assert!(
        page.contains("https://hooks.people.example/0"),
        "{}",
        page.body
    );

    // Without keys, people are added but not listed.
    let output = keyport(&["seed", "--users", "5"], &app.database_url, "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "added 5 people, 0 of them with API Access on, and 0 webhooks"
    );
}
