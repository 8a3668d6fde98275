//! A webhook's health, beside its On/Off switch wherever it is listed: Healthy, Failing since
//! … with the last error in plain words, Paused while API Access is off, Turned off by keyport.

use std::time::Duration;

use keyport::config::{DeliverySettings, RetrySchedule};
use keyport::domain::delivery::Worker;
use keyport::models::Role;

use crate::support::{Receiver, TestApp};

fn worker(app: &TestApp) -> Worker {
    Worker::new(
        app.db.clone(),
        DeliverySettings {
            webhook_retry_schedule: RetrySchedule(vec![Duration::ZERO; 3]),
            webhook_timeout: Duration::from_secs(5),
            webhook_allow_private: true,
            ..DeliverySettings::default()
        },
    )
    .expect("worker")
}

/// The Health cell of the row of the webhook to `url` on a page.
fn health_of(page: &str, url: &str) -> String {
    let row = page
        .split("<tr id=\"webhook-")
        .find(|row| row.contains(url))
        .unwrap_or_else(|| panic!("no row for {url} in\n{page}"));
    row.split("<td data-label=\"Health\">")
        .nth(1)
        .and_then(|cell| cell.split("</td>").next())
        .expect("a Health cell")
        .to_owned()
}

#[actix_web::test]
async fn health_shows_failing_paused_turned_off_and_healthy_beside_the_switch() {
    let app = TestApp::spawn().await;
    let (owner, browser) = app.signed_in(Role::User, "Hal Hooks").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let admin_page = format!("/admin/api-management/users/{}", owner.id);
    let failing = Receiver::start(&[500, 500, 500, 500]);
    let gone = Receiver::start(&[410]);
    let fine = Receiver::start(&[]);
    for receiver in [&failing, &gone, &fine] {
        app.api()
            .create_webhook(&key, &receiver.url(), "Contact", "Create")
            .await;
    }

    // Before any delivery: healthy, nothing delivered yet.
    let page = browser.get("/settings/api-access").await;
    assert!(health_of(&page.body, &fine.url()).contains("Healthy · nothing delivered yet"));

    app.api().create_contact(&key, "Ada", "One").await;
    let worker = worker(&app);
    while worker.deliver_due().await.expect("deliver") > 0 {}

    for page in [
        browser.get("/settings/api-access").await,
        admin.get(&admin_page).await,
    ] {
        let health = health_of(&page.body, &failing.url());
        assert!(
            health.contains("health-Failing")
                && health.contains("Failing since")
                && health.contains("answered 500 Internal Server Error"),
            "{health}"
        );
        assert!(!health.contains("Healthy"));
        let health = health_of(&page.body, &gone.url());
        assert!(
            health.contains(
                "Turned off by keyport: Turned off because the receiver answered 410 Gone."
            ),
            "{health}"
        );
        let health = health_of(&page.body, &fine.url());
        assert!(
            health.contains("health-Healthy") && health.contains("last delivered"),
            "{health}"
        );
        // The switch is separate from the health: the failing one is still On.
        let row = page
            .body
            .split("<tr id=\"webhook-")
            .find(|row| row.contains(&failing.url()))
            .expect("row")
            .to_owned();
        assert!(row.contains(r#"<span class="badge badge-On">On</span>"#));
        assert!(row.contains(&format!(
            "aria-label=\"Turn off the webhook to {}\"",
            failing.url()
        )));
    }

    // A webhook that has never delivered says so on its page.
    let owner_page = browser.get("/settings/api-access").await;
    let failing_id = owner_page
        .body
        .split("<tr id=\"webhook-")
        .find(|row| row.contains(&failing.url()))
        .and_then(|row| row.split('"').next())
        .expect("the failing webhook's id")
        .to_owned();
    let page = browser
        .get(&format!("/settings/api-access/webhooks/{failing_id}"))
        .await;
    assert!(
        page.contains("<dt>Last delivered</dt><dd>Never</dd>"),
        "{}",
        page.body
    );

    // API Access off: every webhook that is On is paused, on both pages.
    browser.post("/settings/api-access/disable", &[]).await;
    for page in [
        browser.get("/settings/api-access").await,
        admin.get(&admin_page).await,
    ] {
        for url in [failing.url(), fine.url()] {
            assert!(
                health_of(&page.body, &url).contains("Paused (API Access is off)"),
                "{url}"
            );
        }
        assert!(health_of(&page.body, &gone.url()).contains("Turned off by keyport"));
    }
    // On again: the failing one is failing again, the fine one healthy.
    browser.post("/settings/api-access/enable", &[]).await;
    let page = browser.get("/settings/api-access").await;
    assert!(health_of(&page.body, &failing.url()).contains("Failing since"));
    assert!(health_of(&page.body, &fine.url()).contains("Healthy"));
    // A disabled owner's webhooks are paused too.
    app.set_disabled(owner.id, true);
    let page = admin.get(&admin_page).await;
    assert!(health_of(&page.body, &fine.url()).contains("Paused"));
}
