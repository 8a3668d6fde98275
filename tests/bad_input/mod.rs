//! Bad input, one table split by area (`access`, `requests`, `keys`, `addresses`, `people`): every case
//! says who sends what, and asserts the status, the message a person or program sees, and that
//! the database is exactly as before.

use std::sync::Arc;

use diesel::prelude::*;
use keyport::config::{AddressRanges, DeliverySettings, WebSettings};
use keyport::db::schema::{
    api_keys, audit_events, companies, contacts, deliveries, jobs, sessions, users, webhook_events,
    webhooks,
};
use keyport::models::Role;
use reqwest::Method;
use reqwest::cookie::CookieStore;
use serde_json::{Value, json};

use crate::support::{Browser, PASSWORD, TestApp, TestUser, csrf_token_in};

mod access;
mod addresses;
mod keys;
mod people;
mod requests;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    User,
    Support,
    Admin,
    /// A program: no cookies, the key (if any) in the case's headers.
    Program,
}

#[derive(Clone, Copy, Debug)]
enum Csrf {
    /// The sender's own token, as a form field.
    Own,
    /// The sender's own token, in the X-CSRF-Token header, as htmx sends it.
    OwnHeader,
    Missing,
    Forged,
    /// A token from another person's session.
    OtherSession,
    /// The user's token from before they signed in (sign-in gives a new one).
    Stale,
    /// The token in the address instead of the form.
    InQuery,
}

enum Body {
    Empty,
    Form(Vec<(String, String)>),
    Json(Value),
    Raw(&'static str, Vec<u8>),
    /// This many bytes, streamed over a raw socket while the answer is read, as a client
    /// that keeps sending after the server has answered.
    Huge(&'static str, usize),
}

struct Case {
    name: String,
    who: Who,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Body,
    csrf: Csrf,
    status: u16,
    /// In the body (HTML decoded) or, for a redirect, in the Location header.
    says: String,
}

fn case(name: impl Into<String>, who: Who, method: Method, path: impl Into<String>) -> Case {
    Case {
        name: name.into(),
        who,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: Body::Empty,
        csrf: Csrf::Own,
        status: 0,
        says: String::new(),
    }
}

impl Case {
    fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = Body::Form(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        self
    }
    fn json(mut self, value: Value) -> Self {
        self.body = Body::Json(value);
        self
    }
    fn raw(mut self, content_type: &'static str, bytes: Vec<u8>) -> Self {
        self.body = Body::Raw(content_type, bytes);
        self
    }
    fn huge(mut self, content_type: &'static str, len: usize) -> Self {
        self.body = Body::Huge(content_type, len);
        self
    }
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn key(self, key: &str) -> Self {
        self.header("x-api-key", key)
    }
    fn csrf(mut self, csrf: Csrf) -> Self {
        self.csrf = csrf;
        self
    }
    fn expect(mut self, status: u16, says: impl Into<String>) -> Self {
        self.status = status;
        self.says = says.into();
        self
    }
}

type HookRow = (i64, i64, String, String, String, String, Option<String>);

/// Everything a request could change, read back in a stable order. Sessions are left out
/// (visiting a page may start one); so is when a key was last used.
fn snapshot(app: &TestApp) -> String {
    app.with_conn(|c| {
        let users: Vec<(
            i64,
            String,
            String,
            String,
            String,
            Option<chrono::NaiveDateTime>,
        )> = users::table
            .select((
                users::id,
                users::email,
                users::name,
                users::password_hash,
                users::role,
                users::disabled_at,
            ))
            .order(users::id)
            .load(c)
            .expect("users");
        let keys: Vec<(i64, i64, Vec<u8>, Option<chrono::NaiveDateTime>)> = api_keys::table
            .select((
                api_keys::id,
                api_keys::user_id,
                api_keys::key_hash,
                api_keys::revoked_at,
            ))
            .order(api_keys::id)
            .load(c)
            .expect("keys");
        let hooks: Vec<HookRow> = webhooks::table
            .select((
                webhooks::id,
                webhooks::user_id,
                webhooks::url,
                webhooks::entity,
                webhooks::operation_type,
                webhooks::status,
                webhooks::disabled_reason,
            ))
            .order(webhooks::id)
            .load(c)
            .expect("webhooks");
        let counts: Vec<i64> = vec![
            audit_events::table.count().get_result(c).expect("audit"),
            companies::table.count().get_result(c).expect("companies"),
            contacts::table.count().get_result(c).expect("contacts"),
            jobs::table.count().get_result(c).expect("jobs"),
            webhook_events::table.count().get_result(c).expect("events"),
            deliveries::table.count().get_result(c).expect("deliveries"),
        ];
        format!("{users:?}\n{keys:?}\n{hooks:?}\n{counts:?}")
    })
}

struct World {
    app: TestApp,
    anonymous: Browser,
    user: Browser,
    support: Browser,
    admin: Browser,
    program: reqwest::Client,
    /// The user's token from before sign-in.
    stale_token: String,
    user_key: String,
    user_hook: i64,
    other: TestUser,
    other_hook: i64,
    other_delivery: i64,
    /// A cookie copied from a session that then signed out.
    copied_cookie: String,
}

async fn sign_in(app: &TestApp, role: Role, name: &str) -> (TestUser, Browser) {
    let user = app.create_user(role, name);
    let browser = app.browser();
    assert_eq!(browser.sign_in(&user.email, PASSWORD).await.status, 303);
    (user, browser)
}

async fn webhook(app: &TestApp, key: &str, url: &str) -> i64 {
    let hook = app
        .api()
        .create_webhook(key, url, "Contact", "Create")
        .await;
    hook["id"].as_i64().expect("webhook id")
}

/// Signs in with a raw client, copies its cookies, then signs out.
async fn copied_cookie_after_sign_out(app: &TestApp, email: &str) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client.get(app.url("/login")).send().await.expect("GET");
    let token = csrf_token_in(&page.text().await.expect("body")).expect("a token on the page");
    let signed_in = client
        .post(app.url("/login"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(signed_in.status(), 303);
    let url: reqwest::Url = app.url("/").parse().expect("url");
    let copied = jar
        .cookies(&url)
        .expect("cookies")
        .to_str()
        .expect("ascii")
        .to_owned();
    let page = client.get(app.url("/settings")).send().await.expect("GET");
    let token = csrf_token_in(&page.text().await.expect("body")).expect("a token on the page");
    let out = client
        .post(app.url("/logout"))
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .expect("POST /logout");
    assert_eq!(out.status(), 303);
    copied
}

async fn world() -> World {
    // Behind a trusted proxy, each case comes from its own address, so the throttling of
    // invalid keys does not turn later cases into 429s.
    let app = TestApp::builder()
        .web(WebSettings {
            trusted_proxies: AddressRanges::parse("127.0.0.1").expect("valid"),
            ..WebSettings::default()
        })
        .delivery(DeliverySettings::default())
        .spawn()
        .await;
    let anonymous = app.browser();
    anonymous.get("/login").await;

    let user_account = app.create_user(Role::User, "Ulla User");
    let user = app.browser();
    let stale_token = user.token().await;
    assert_eq!(
        user.sign_in(&user_account.email, PASSWORD).await.status,
        303
    );
    let user_key = user
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let user_hook = webhook(&app, &user_key, "https://hooks.example.com/ulla").await;

    let (other, other_browser) = sign_in(&app, Role::User, "Otto Other").await;
    let other_key = other_browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let other_hook = webhook(&app, &other_key, "https://hooks.example.com/otto").await;
    app.api()
        .create_contact(&other_key, "Queued", "Delivery")
        .await;
    let other_delivery = app.with_conn(|c| {
        deliveries::table
            .filter(deliveries::webhook_id.eq(other_hook))
            .select(deliveries::id)
            .first::<i64>(c)
            .expect("a delivery for Otto's webhook")
    });

    let (_, support) = sign_in(&app, Role::Support, "Sue Support").await;
    let (_, admin) = sign_in(&app, Role::Admin, "Ada Admin").await;
    let copied_cookie = copied_cookie_after_sign_out(&app, &user_account.email).await;
    let program = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    World {
        app,
        anonymous,
        user,
        support,
        admin,
        program,
        stale_token,
        user_key,
        user_hook,
        other,
        other_hook,
        other_delivery,
        copied_cookie,
    }
}

impl World {
    fn browser(&self, who: Who) -> Option<&Browser> {
        match who {
            Who::Anonymous => Some(&self.anonymous),
            Who::User => Some(&self.user),
            Who::Support => Some(&self.support),
            Who::Admin => Some(&self.admin),
            Who::Program => None,
        }
    }

    async fn send(&self, n: usize, case: &Case) -> (u16, reqwest::header::HeaderMap, String) {
        if let Body::Huge(content_type, len) = case.body {
            return send_huge(&self.app.url(&case.path), &case.headers, content_type, len);
        }
        let token = match self.browser(case.who) {
            Some(browser) => match case.csrf {
                Csrf::Own | Csrf::OwnHeader | Csrf::InQuery => Some(browser.token().await),
                Csrf::Forged => Some("forged-token-forged-token-forged-token-0000".to_owned()),
                Csrf::OtherSession => Some(self.admin.token().await),
                Csrf::Stale => Some(self.stale_token.clone()),
                Csrf::Missing => None,
            },
            None => None,
        };
        let unsafe_method = !matches!(case.method, Method::GET | Method::HEAD);
        let mut path = case.path.clone();
        if let (Csrf::InQuery, Some(token)) = (case.csrf, &token) {
            path.push_str(&format!("?csrf_token={token}"));
        }
        let mut request = match self.browser(case.who) {
            Some(browser) => browser.request(case.method.clone(), &path),
            None => self
                .program
                .request(case.method.clone(), self.app.url(&path)),
        };
        request = request.header(
            "x-forwarded-for",
            format!("198.18.{}.{}", n / 200, n % 200 + 1),
        );
        for (name, value) in &case.headers {
            request = request.header(*name, value.as_str());
        }
        let header_token = matches!(case.csrf, Csrf::OwnHeader);
        if let (true, true, Some(token)) = (unsafe_method, header_token, &token) {
            request = request.header("x-csrf-token", token.as_str());
        }
        let field_token = unsafe_method
            && !header_token
            && !matches!(case.csrf, Csrf::InQuery)
            && case.who != Who::Program;
        request = match &case.body {
            Body::Empty if field_token => match &token {
                Some(token) => request.form(&[("csrf_token", token.as_str())]),
                None => request.form(&[] as &[(&str, &str)]),
            },
            Body::Empty => request,
            Body::Form(fields) => {
                let mut fields = fields.clone();
                if let (true, Some(token)) = (field_token, &token) {
                    fields.push(("csrf_token".into(), token.clone()));
                }
                request.form(&fields)
            }
            Body::Json(value) => request.json(value),
            Body::Raw(content_type, bytes) => request
                .header("content-type", *content_type)
                .body(bytes.clone()),
            Body::Huge(..) => unreachable!("sent over a raw socket above"),
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: the request failed: {e}", case.name));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        (
            status,
            headers,
            html_escape::decode_html_entities(&body).into_owned(),
        )
    }
}

/// POSTs `len` bytes to `url` from one thread while another reads the answer.
fn send_huge(
    url: &str,
    headers: &[(&'static str, String)],
    content_type: &str,
    len: usize,
) -> (u16, reqwest::header::HeaderMap, String) {
    use std::io::{Read, Write};
    let url: reqwest::Url = url.parse().expect("url");
    let addr = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().expect("port")
    );
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n",
        url.path(),
        url.host_str().expect("host")
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("head");
    let mut writer = stream.try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < len && writer.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        sent
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the server closes; a reset after the answer arrived ends the read too.
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let sent = sender.join().expect("sender");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer after sending {sent} bytes: {text:?}"));
    assert!(
        sent < len,
        "the server read all {len} bytes before answering"
    );
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, reqwest::header::HeaderMap::new(), body)
}

const CSRF: &str = "This form has expired or did not come from keyport.";
const NOTHING: &str = "There is nothing here.";
const FORBIDDEN: &str = "You do not have permission to do that.";
const NO_KEY: &str = "A valid API key is required";
const METHOD: &str = "This address does not accept that kind of request.";

/// The world and the addresses the cases aim at.
pub struct Fixtures<'a> {
    world: &'a World,
    enable: &'static str,
    add: &'static str,
    own: String,
    others: String,
    missing: &'static str,
    other_user: String,
    api_others: String,
    api_own: String,
}

impl Fixtures<'_> {
    /// The add-webhook form's fields for `url`.
    fn hook_form(url: &str) -> Vec<(String, String)> {
        vec![
            ("url".to_owned(), url.to_owned()),
            ("entity".to_owned(), "Contact".to_owned()),
            ("operation_type".to_owned(), "Create".to_owned()),
        ]
    }
}

/// Every case, area by area.
fn cases(w: &World) -> Vec<Case> {
    let f = Fixtures {
        world: w,
        enable: "/settings/api-access/enable",
        add: "/settings/api-access/webhooks",
        own: format!("/settings/api-access/webhooks/{}", w.user_hook),
        others: format!("/settings/api-access/webhooks/{}", w.other_hook),
        missing: "/settings/api-access/webhooks/987654",
        other_user: format!("/admin/api-management/users/{}", w.other.id),
        api_others: format!("/api/v1/webhooks/{}", w.other_hook),
        api_own: format!("/api/v1/webhooks/{}", w.user_hook),
    };
    [
        access::access(&f),
        requests::requests(&f),
        keys::keys(&f),
        addresses::addresses(&f),
        people::people(&f),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[actix_web::test]
async fn bad_input_is_refused_with_a_clear_error_and_changes_nothing() {
    let w = world().await;
    let cases = cases(&w);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let before = snapshot(&w.app);
        let (status, headers, body) = w.send(n, case).await;
        let shown = if (300..400).contains(&status) {
            headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        } else {
            body.clone()
        };
        if status != case.status || !shown.contains(&case.says) {
            failures.push(format!(
                "{}: expected {} with {:?}, got {status}: {}",
                case.name,
                case.status,
                case.says,
                shown.chars().take(400).collect::<String>()
            ));
        }
        if status >= 500 {
            failures.push(format!("{}: a server error", case.name));
        }
        if snapshot(&w.app) != before {
            failures.push(format!("{}: the database changed", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Nothing was signed out or in along the way: the user's session still works.
    assert_eq!(w.user.get("/settings/api-access").await.status, 200);
    let sessions: i64 = w
        .app
        .with_conn(|c| sessions::table.count().get_result(c))
        .expect("sessions");
    assert!(sessions >= 4);
}

#[actix_web::test]
async fn another_users_webhook_answers_exactly_like_a_missing_one() {
    let w = world().await;
    let pairs = [
        (
            format!("/settings/api-access/webhooks/{}", w.other_hook),
            "/settings/api-access/webhooks/987654".to_owned(),
        ),
        (
            format!("/settings/api-access/webhooks/{}/secret", w.other_hook),
            "/settings/api-access/webhooks/987654/secret".to_owned(),
        ),
    ];
    for (theirs, missing) in pairs {
        // The same page, but for the request id each names.
        let seen =
            |p: &crate::support::Page| (p.status, p.body.replace(p.header("x-request-id"), "[id]"));
        let a = w.user.get(&theirs).await;
        let b = w.user.get(&missing).await;
        assert_eq!(seen(&a), seen(&b), "{theirs}");
    }
    let api = w.app.api();
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"status": "Off"}));
        let theirs = api
            .call(
                &w.user_key,
                method.clone(),
                &format!("/api/v1/webhooks/{}", w.other_hook),
                body.clone(),
            )
            .await;
        let missing = api
            .call(&w.user_key, method.clone(), "/api/v1/webhooks/987654", body)
            .await;
        let without_id = |(status, mut body): (u16, Value)| {
            body.as_object_mut().expect("object").remove("request_id");
            (status, body)
        };
        assert_eq!(without_id(theirs), without_id(missing), "{method}");
    }
}

#[actix_web::test]
async fn markup_in_every_text_field_is_shown_as_text() {
    let app = TestApp::spawn().await;
    let name = r#"<script>alert("name")</script>"#;
    let target = app.create_user(Role::User, name);
    let browser = app.browser();
    assert_eq!(browser.sign_in(&target.email, PASSWORD).await.status, 303);
    browser.post("/settings/api-access/enable", &[]).await;
    let (_, admin) = sign_in(&app, Role::Admin, "Xena Xss").await;

    let reason = r#"<img src=x onerror=alert("reason")>"#;
    let page = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", target.id),
            &[("reason", reason)],
        )
        .await;
    assert!(page.status < 400, "{}", page.body);
    let login_email = r#""><script>alert("email")</script>"#;
    let anonymous = app.browser();
    anonymous.get("/login").await;
    let pages = [
        (
            "the user's API Access page (the reason)",
            browser.get("/settings/api-access").await,
        ),
        ("the header (the name)", browser.get("/settings").await),
        (
            "the user in API Management (name, audit trail)",
            admin
                .get(&format!("/admin/api-management/users/{}", target.id))
                .await,
        ),
        (
            "the search (the search box and the empty result)",
            admin
                .get("/admin/api-management?q=%3Cscript%3Ealert(%22q%22)%3C%2Fscript%3E")
                .await,
        ),
        (
            "the sign-in form (the email typed back)",
            anonymous
                .post(
                    "/login",
                    &[("email", login_email), ("password", "wrong password here")],
                )
                .await,
        ),
    ];
    // Shown as text: escaped in the page (askama writes `<` as `&#60;`).
    let shown = |n: usize, text: &str| {
        let escaped = text.replace('<', "&#60;").replace('>', "&#62;");
        assert!(
            pages[n].1.contains(&escaped),
            "{} does not show {text}:\n{}",
            pages[n].0,
            pages[n].1.body
        );
    };
    for (what, page) in &pages {
        for raw in ["<script>alert(", "<img src=x"] {
            assert!(
                !page.body.contains(raw),
                "{what} shows raw markup:\n{}",
                page.body
            );
        }
    }
    shown(0, "<img src=x onerror=alert(");
    shown(1, "<script>alert(");
    shown(2, "<script>alert(");
    shown(2, "<img src=x onerror=alert(");
    shown(3, "<script>alert(");
    shown(4, "<script>alert(");
}
