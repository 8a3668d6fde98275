//! Throttling of password and key guessing, the client address behind proxies, keys in links
//! turned off, and cookie names behind TLS.

use keyport::config::WebSettings;
use keyport::domain::keys::ApiKey;
use keyport::models::Role;

use crate::support::{KeyIn, PASSWORD, TestApp};

const WRONG: &str = "not the password at all";

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in seconds")
}

#[actix_web::test]
async fn sign_in_guessing_gets_429_with_when_to_retry_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Gus Guessed");
    let guesser = app.browser();
    for _ in 0..5 {
        assert_eq!(guesser.sign_in(&user.email, WRONG).await.status, 401);
    }
    let refused = guesser.sign_in(&user.email, PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    let wait = retry_after(&refused.headers);
    assert!((1..=12).contains(&wait), "{wait}");
    assert!(
        refused.contains("Too many sign-in attempts. Try again in"),
        "{}",
        refused.body
    );
    // The form is shown again, with the email typed back.
    assert!(refused.contains(&user.email));
    // No session was made.
    assert_eq!(guesser.get("/settings").await.status, 303);
    // Unknown emails are throttled alike, so the answer tells nothing about who exists.
    for _ in 0..5 {
        assert_eq!(
            guesser.sign_in("nobody@example.com", WRONG).await.status,
            401
        );
    }
    assert_eq!(
        guesser.sign_in("nobody@example.com", WRONG).await.status,
        429
    );
}

#[actix_web::test]
async fn guessing_cannot_lock_the_owner_out_of_a_browser_they_signed_in_with() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Olga Owner");
    let owner = app.browser();
    assert_eq!(owner.sign_in(&user.email, PASSWORD).await.status, 303);
    owner.post("/logout", &[]).await;

    // Someone else, at the same address, guesses until refused.
    let guesser = app.browser();
    for _ in 0..5 {
        guesser.sign_in(&user.email, WRONG).await;
    }
    assert_eq!(guesser.sign_in(&user.email, PASSWORD).await.status, 429);

    // The owner's browser carries its device cookie and has its own allowance.
    let page = owner.sign_in(&user.email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(owner.get("/settings/api-access").await.status, 200);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_limits_follow_the_forwarded_address_and_spoofing_does_not_reset_them()
 {
    let app = TestApp::behind_trusted_proxy().await;
    let user = app.create_user(Role::User, "Pia Proxied");
    // The proxy appends the address it saw; what the client wrote before it is not believed.
    for spoofed in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"] {
        let guesser = app.browser_from(&format!("{spoofed}, 203.0.113.5"));
        assert_eq!(guesser.sign_in(&user.email, WRONG).await.status, 401);
    }
    let guesser = app.browser_from("6.6.6.6, 203.0.113.5");
    assert_eq!(guesser.sign_in(&user.email, WRONG).await.status, 429);

    // The user, at another address, is not held back by the guesser's limit.
    let elsewhere = app.browser_from("198.51.100.7");
    assert_eq!(elsewhere.sign_in(&user.email, PASSWORD).await.status, 303);
}

#[actix_web::test]
async fn without_trusted_proxies_a_forwarded_header_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Sam Spoofer");
    for n in 1..=5 {
        let guesser = app.browser_from(&format!("203.0.113.{n}"));
        assert_eq!(guesser.sign_in(&user.email, WRONG).await.status, 401);
    }
    let guesser = app.browser_from("203.0.113.99");
    assert_eq!(guesser.sign_in(&user.email, WRONG).await.status, 429);
}

#[actix_web::test]
async fn repeated_401s_from_one_address_get_429_but_a_valid_key_still_works() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Val Valid").await;
    let api = app.api();
    let well_formed_unknown = ApiKey::generate();
    for n in 0..30 {
        let bad = if n % 2 == 0 {
            "kp_typo"
        } else {
            well_formed_unknown.expose()
        };
        assert_eq!(api.get_me(bad).await.status(), 401);
    }
    let refused = api.get_me("kp_typo").await;
    assert_eq!(refused.status(), 429);
    let wait = retry_after(refused.headers());
    assert!((1..=2).contains(&wait), "{wait}");
    let body: serde_json::Value = refused.json().await.expect("JSON");
    let error = body["error"].as_str().expect("an error message");
    assert!(
        error.starts_with(
            "Too many requests with an invalid API key from this address. Try again in"
        ),
        "{error}"
    );
    // Valid calls are never counted nor refused.
    for _ in 0..5 {
        assert_eq!(api.get_me(&key).await.status(), 200);
    }
}

#[actix_web::test]
async fn keys_in_links_can_be_turned_off_for_the_whole_instance() {
    let app = TestApp::builder()
        .web(WebSettings {
            allow_query_keys: false,
            ..WebSettings::default()
        })
        .spawn()
        .await;
    let (_, key) = app.user_with_key("Lin Links").await;
    let api = app.api();
    let refused = api.get_me_via(&key, KeyIn::Query).await;
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(
        body["error"],
        "Keys in the address are turned off on this keyport: send the key as X-Api-Key or Authorization: Bearer."
    );
    assert_eq!(api.get_me_via(&key, KeyIn::Header).await.status(), 200);
    assert_eq!(api.get_me_via(&key, KeyIn::Bearer).await.status(), 200);
    let guide = app.browser().get("/docs/api").await;
    assert!(guide.contains("turned off on this keyport"));

    // On by default.
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Lin Links").await;
    assert_eq!(app.api().get_me_via(&key, KeyIn::Query).await.status(), 200);
    assert!(
        !app.browser()
            .get("/docs/api")
            .await
            .contains("turned off on this keyport")
    );
}

#[actix_web::test]
async fn behind_tls_cookies_carry_the_host_prefix() {
    let app = TestApp::builder()
        .web(WebSettings {
            secure_cookies: true,
            ..WebSettings::default()
        })
        .spawn()
        .await;
    // The sign-in form's CSRF cookie, then the session it signs in to.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let user = app.create_user(keyport::models::Role::User, "Tess Tls");
    let page = client.get(app.url("/login")).send().await.expect("GET");
    let cookie = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("__Host-{name}=")))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no __Host-{name} cookie: {:?}", res.headers()))
    };
    let csrf = cookie(&page, "keyport_csrf");
    let body = page.text().await.expect("body");
    let token = crate::support::csrf_token_in(&body).expect("token");
    let signed_in = client
        .post(app.url("/login"))
        .header("cookie", csrf.split(';').next().unwrap_or_default())
        .form(&[
            ("email", user.email.as_str()),
            ("password", crate::support::PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(signed_in.status(), 303);
    for cookie in [csrf, cookie(&signed_in, "keyport_session")] {
        for attribute in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
            assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
}

/// Issue 16, finding 2: anyone could grow memory and logs without limit through method names,
/// each a new metric series and a full log line. 1,000 distinct 60,000-letter methods now
/// leave one `OTHER` series, a bounded RSS and log lines cut short.
#[actix_web::test]
async fn junk_methods_cost_bounded_metrics_memory_and_log_space() {
    use std::io::{Read, Write};
    let app = TestApp::spawn().await;
    let served = crate::support::serve_with_env(&app.database_url, &[], &[("KEYPORT_LOG", "info")]);
    served.wait_until_listening().await;
    let addr = served.base.trim_start_matches("http://").to_owned();
    let series = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("keyport_http_requests_total{"))
            .count()
    };
    let before_series = series(&crate::metrics::scrape(&served.base).await);
    let rss_before = served.rss_bytes();

    let sent = std::thread::spawn(move || {
        for n in 0..1000u32 {
            // Letters only, different for each request: a method name HTTP allows.
            let method: String = (0..60_000u32)
                .map(|i| char::from(b'A' + ((i * 7 + n * 13 + i / 26 * n) % 26) as u8))
                .collect();
            let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .expect("timeout");
            write!(
                stream,
                "{method} /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .expect("send");
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            assert!(!answer.is_empty(), "request {n} got no answer");
        }
    });
    actix_web::rt::task::spawn_blocking(move || sent.join())
        .await
        .expect("join")
        .expect("the junk requests");

    let text = crate::metrics::scrape(&served.base).await;
    let added = series(&text) - before_series;
    assert!(added <= 3, "{added} new request series:\n{text}");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(text.len() < 64 * 1024, "/metrics is {} bytes", text.len());
    let grown = served.rss_bytes().saturating_sub(rss_before);
    println!("RSS grew by {} KB over 1,000 junk methods", grown / 1024);
    assert!(
        grown < 24 * 1024 * 1024,
        "RSS grew by {} MB",
        grown / (1024 * 1024)
    );
    // Every line is bounded: the 60,000-letter method is cut, with a marker.
    let started = std::time::Instant::now();
    let lines = loop {
        let lines = served.log_lines();
        if lines.iter().filter(|l| l.contains("truncated")).count() >= 1000 {
            break lines;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{} lines logged",
            lines.len()
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let longest = lines.iter().map(String::len).max().unwrap_or(0);
    assert!(longest < 2048, "a log line of {longest} bytes");
}
