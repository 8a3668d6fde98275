//! The command line, run as a person would run it.

use std::io::Write;
use std::process::{Command, Stdio};

use keyport::models::Role;

use crate::support::TestApp;

fn keyport(args: &[&str], database_url: &str, stdin: &str) -> std::process::Output {
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

#[actix_web::test]
async fn user_create_prints_the_new_id_and_the_user_can_sign_in() {
    let app = TestApp::spawn().await;
    let output = keyport(
        &[
            "user",
            "create",
            "--email",
            "Cli.Admin@Example.com",
            "--name",
            "Cli Admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &app.database_url,
        "a long enough password\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    let again = keyport(
        &[
            "user",
            "create",
            "--email",
            "cli.admin@example.com",
            "--name",
            "Again",
            "--password-stdin",
        ],
        &app.database_url,
        "another long password\n",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[actix_web::test]
async fn user_create_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let short = keyport(
        &[
            "user",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--password-stdin",
        ],
        &app.database_url,
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));

    let bad_role = keyport(
        &[
            "user",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "root",
            "--password-stdin",
        ],
        &app.database_url,
        "a long enough password\n",
    );
    assert!(!bad_role.status.success());

    let bad_email = keyport(
        &[
            "user",
            "create",
            "--email",
            "not-an-email",
            "--name",
            "A",
            "--password-stdin",
        ],
        &app.database_url,
        "a long enough password\n",
    );
    assert!(!bad_email.status.success());
    assert!(String::from_utf8_lossy(&bad_email.stderr).contains("Email"));
}

#[actix_web::test]
async fn an_unknown_database_scheme_is_refused() {
    let output = keyport(&["migrate"], "mysql://localhost/keyport", "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown database URL scheme"));
}
