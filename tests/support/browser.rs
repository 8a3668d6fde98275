//! A browser that keeps cookies and sends each form's CSRF token, and an API client.

use std::sync::Mutex;

use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;

/// Idle connections are dropped before the server's 5 s keep-alive closes them, so a test that
/// pauses (seeding thousands of rows) never sends on a connection the server is closing.
const IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// What a browser got back.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn location(&self) -> &str {
        self.header("location")
    }

    /// The full key shown once after Enable API Access or Regenerate New Key.
    pub fn shown_key(&self) -> String {
        let marker = r#"id="new-key" class="mono" readonly value=""#;
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no key shown on the page:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("end of the key") + start;
        self.body[start..end].to_owned()
    }

    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The list's next page (`rel="next"`), its href read as a browser reads it.
    pub fn next_link(&self) -> Option<String> {
        let marker = "rel=\"next\" href=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(
            self.body[start..end]
                .replace("&#38;", "&")
                .replace("&amp;", "&"),
        )
    }

    /// The value of the first hidden csrf_token field.
    fn csrf_token(&self) -> Option<String> {
        csrf_token_in(&self.body)
    }
}

/// The value of the first hidden csrf_token field of a page's HTML.
pub fn csrf_token_in(body: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

pub struct Browser {
    client: reqwest::Client,
    cookies: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    csrf: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(base: String) -> Self {
        Self::with_headers(base, HeaderMap::new())
    }

    /// A browser whose every request carries these headers (an `X-Forwarded-For`, say).
    pub fn with_headers(base: String, headers: HeaderMap) -> Self {
        Self::built(base, reqwest::Client::builder().default_headers(headers))
    }

    /// A browser that trusts this (test) certificate authority, for keyport behind TLS.
    pub fn trusting(base: String, ca_pem: &[u8]) -> Self {
        let ca = reqwest::Certificate::from_pem(ca_pem).expect("a PEM certificate");
        Self::built(base, reqwest::Client::builder().add_root_certificate(ca))
    }

    fn built(base: String, builder: reqwest::ClientBuilder) -> Self {
        let cookies = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = builder
            .cookie_provider(cookies.clone())
            .redirect(Policy::none())
            .pool_idle_timeout(IDLE)
            .build()
            .expect("http client");
        Self {
            client,
            cookies,
            base: base.trim_end_matches('/').to_owned(),
            csrf: Mutex::new(None),
        }
    }

    /// The same browser (its cookies) on another instance of keyport, at `base`: cookies are
    /// per host, not per port, as in a real browser behind one load-balanced name.
    pub fn on(&self, base: &str) -> Browser {
        Browser {
            client: self.client.clone(),
            cookies: self.cookies.clone(),
            base: base.trim_end_matches('/').to_owned(),
            csrf: Mutex::new(self.csrf.lock().expect("csrf lock").clone()),
        }
    }

    /// The `Cookie` header this browser sends now, for a test that replays it elsewhere.
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().expect("base URL");
        self.cookies
            .cookies(&url)
            .map(|v| v.to_str().expect("ASCII cookies").to_owned())
            .unwrap_or_default()
    }

    async fn page(&self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("response body");
        let page = Page {
            status,
            headers,
            body,
        };
        if let Some(token) = page.csrf_token() {
            *self.csrf.lock().expect("csrf lock") = Some(token);
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        self.page(response).await
    }

    /// GET as htmx does: the section, not the whole page.
    pub async fn get_htmx(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("GET");
        self.page(response).await
    }

    /// Posts a form with the CSRF token of the last page seen (loading one if none was).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.post_raw(path, &form).await
    }

    /// Posts as htmx does: the token in the X-CSRF-Token header, the section back.
    pub async fn post_htmx(&self, path: &str) -> Page {
        self.post_htmx_form(path, &[]).await
    }

    /// Posts a form as htmx does: fields in the body, the token in the header.
    pub async fn post_htmx_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.token().await;
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", token)
            .form(fields)
            .send()
            .await
            .expect("POST");
        self.page(response).await
    }

    /// Posts exactly these fields: no token unless the test adds one.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST");
        self.page(response).await
    }

    /// A request with this browser's cookies, for a test that builds it itself.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn token(&self) -> String {
        if let Some(token) = self.csrf.lock().expect("csrf lock").clone() {
            return token;
        }
        let page = self.get("/login").await;
        page.csrf_token()
            .unwrap_or_else(|| panic!("no CSRF token on the sign-in page:\n{}", page.body))
    }

    /// Signs in as a person does: the sign-in page, the form, and the page it leads to.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.get("/login").await;
        let page = self
            .post("/login", &[("email", email), ("password", password)])
            .await;
        if page.status == 303 {
            self.get(page.location()).await;
        }
        page
    }
}

/// Where a program puts its key.
#[derive(Debug, Clone, Copy)]
pub enum KeyIn {
    Header,
    Bearer,
    Query,
}

pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: String) -> Self {
        Self {
            client: reqwest::Client::builder()
                .pool_idle_timeout(IDLE)
                .build()
                .expect("http client"),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub async fn get_me(&self, key: &str) -> reqwest::Response {
        self.get_me_via(key, KeyIn::Header).await
    }

    pub async fn get_me_via(&self, key: &str, how: KeyIn) -> reqwest::Response {
        let url = format!("{}/api/v1/me", self.base);
        let request = match how {
            KeyIn::Header => self.client.get(url).header("X-Api-Key", key),
            KeyIn::Bearer => self.client.get(url).bearer_auth(key),
            KeyIn::Query => self.client.get(url).query(&[("api_key", key)]),
        };
        request.send().await.expect("GET /api/v1/me")
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// A call made with a key, as a program makes it: the JSON body back, and the status.
    pub async fn call(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.request(method, path).header("X-Api-Key", key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API call");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, json)
    }

    /// A record made through the API with `key`, which must be made (201): its JSON.
    pub async fn created(
        &self,
        key: &str,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let (status, made) = self
            .call(key, reqwest::Method::POST, path, Some(body))
            .await;
        assert_eq!(status, 201, "POST {path}: {made}");
        made
    }

    /// A contact, as a program makes one.
    pub async fn create_contact(
        &self,
        key: &str,
        first_name: &str,
        last_name: &str,
    ) -> serde_json::Value {
        let body = serde_json::json!({"first_name": first_name, "last_name": last_name});
        self.created(key, "/api/v1/contacts", body).await
    }

    /// A webhook for one event (`entity` and `operation_type` as the form names them).
    pub async fn create_webhook(
        &self,
        key: &str,
        url: &str,
        entity: &str,
        operation_type: &str,
    ) -> serde_json::Value {
        let body =
            serde_json::json!({"url": url, "entity": entity, "operation_type": operation_type});
        self.created(key, "/api/v1/webhooks", body).await
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }
}
