//! The API Developer Guide at /docs/api: prose on keys, errors, paging and webhooks around a
//! reference of every endpoint, read from the same OpenAPI document that /api/v1/openapi.json
//! serves, so the two cannot disagree.

use std::time::Duration;

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::Value;

use super::guide_examples as examples;
use super::pages::{Layout, html};
use super::session::SignedIn;
use crate::AppState;
use crate::domain::{delivery, key_policy};
use crate::http::error::Error;
use crate::http::openapi::ApiDocument;

pub const PATH: &str = "/docs/api";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATH).get(guide));
}

#[derive(Template)]
#[template(path = "docs/api.html")]
struct GuidePage {
    layout: Layout,
    /// Where this keyport is reached, for the examples.
    base_url: String,
    python_verify: &'static str,
    javascript_verify: &'static str,
    shell_send: &'static str,
    sample_secret: &'static str,
    sample_id: &'static str,
    sample_timestamp: i64,
    sample_body: &'static str,
    sample_signature: String,
    endpoints: Vec<Endpoint>,
    schemas: Vec<SchemaView>,
    retry_schedule: String,
    attempts: usize,
    timeout: String,
    disable_after: String,
    /// Whether this keyport takes keys in the `api_key` query parameter.
    query_keys: bool,
    /// The key policy's limits, as the section on keys states them.
    max_keys: i32,
    max_lifetime: Option<i32>,
    require_expiry: bool,
}

/// One operation of the document, ready to read.
struct Endpoint {
    /// Where it sorts: by tag in the document's order, then path, then method.
    order: (usize, String, usize),
    method: String,
    path: String,
    anchor: String,
    summary: String,
    description: String,
    needs_key: bool,
    /// The scope a key needs for it (`contacts:write`), when it needs one.
    scope: Option<String>,
    parameters: Vec<FieldView>,
    body: Option<String>,
    /// A call to copy, with the body's example when the document has one.
    curl: String,
    responses: Vec<ResponseView>,
}

struct ResponseView {
    status: String,
    description: String,
    schema: Option<String>,
}

struct SchemaView {
    name: String,
    description: String,
    fields: Vec<FieldView>,
    values: Vec<String>,
}

struct FieldView {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

/// Anyone may read the guide; signed-in people see it with their header.
async fn guide(
    state: web::Data<AppState>,
    doc: web::Data<ApiDocument>,
    me: Option<SignedIn>,
    session: Session,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let layout = match &me {
        Some(me) => Layout::for_user(me)?,
        None => Layout::anonymous(&req, &session)?,
    };
    let delivery = &state.delivery;
    let base_url = crate::http::client_address::origin(&req);
    let policy = state.db.run(key_policy::current).await?;
    html(&GuidePage {
        layout,
        python_verify: examples::PYTHON_VERIFY,
        javascript_verify: examples::JAVASCRIPT_VERIFY,
        shell_send: examples::SHELL_SEND,
        sample_secret: examples::SAMPLE_SECRET,
        sample_id: examples::SAMPLE_ID,
        sample_timestamp: examples::SAMPLE_TIMESTAMP,
        sample_body: examples::SAMPLE_BODY,
        sample_signature: delivery::signing::sign(
            examples::SAMPLE_SECRET,
            examples::SAMPLE_ID,
            examples::SAMPLE_TIMESTAMP,
            examples::SAMPLE_BODY,
        )
        .unwrap_or_default(),
        endpoints: endpoints(&doc.value, &base_url),
        schemas: schemas(&doc.value),
        retry_schedule: delivery
            .webhook_retry_schedule
            .0
            .iter()
            .map(|d| readable(*d))
            .collect::<Vec<_>>()
            .join(", "),
        attempts: delivery.webhook_retry_schedule.0.len() + 1,
        timeout: readable(delivery.webhook_timeout),
        disable_after: readable(delivery.webhook_disable_after),
        query_keys: policy.query_keys_allowed(state.settings.allow_query_keys),
        max_keys: policy.max_keys_per_user,
        max_lifetime: policy.max_lifetime_days,
        require_expiry: policy.require_expiry,
        base_url,
    })
}

/// `5m`, `2h 30m`, `5days`, as humantime writes them.
fn readable(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The document's descriptions mark code with backticks, as Markdown does: escaped HTML with
/// those spans in `<code>`, for the template to insert as is.
fn rich(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            let escaped = askama::filters::escape(part, askama::filters::Html)
                .map(|e| e.to_string())
                .unwrap_or_default();
            if i % 2 == 1 {
                format!("<code>{escaped}</code>")
            } else {
                escaped
            }
        })
        .collect()
}

fn endpoints(doc: &Value, base_url: &str) -> Vec<Endpoint> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let tags: Vec<String> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().map(|t| text(t, "name")).collect())
        .unwrap_or_default();
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut list = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let parameters = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| FieldView {
                            name: format!("{} ({})", text(p, "name"), text(p, "in")),
                            kind: p.get("schema").map(kind).unwrap_or_default(),
                            required: p.get("required").and_then(Value::as_bool) == Some(true),
                            description: rich(&with_limits(
                                text(p, "description"),
                                p.get("schema").unwrap_or(&Value::Null),
                            )),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body_schema = op.pointer("/requestBody/content/application~1json/schema");
            let body = body_schema.map(kind);
            let example = body_schema.and_then(|s| example_of(doc, s));
            let mut responses: Vec<ResponseView> = op
                .get("responses")
                .and_then(Value::as_object)
                .map(|rs| {
                    rs.iter()
                        .map(|(status, r)| ResponseView {
                            status: status.clone(),
                            description: rich(&text(r, "description")),
                            schema: r.pointer("/content/application~1json/schema").map(kind),
                        })
                        .collect()
                })
                .unwrap_or_default();
            responses.sort_by(|a, b| a.status.cmp(&b.status));
            // An empty requirement (`{}`) among the alternatives means no key is needed.
            let needs_key =
                !op.get("security")
                    .and_then(Value::as_array)
                    .is_some_and(|alternatives| {
                        alternatives
                            .iter()
                            .any(|a| a.as_object().is_some_and(|o| o.is_empty()))
                    });
            // Every way to send the key asks for the same scope; the first names it.
            let scope = op
                .pointer("/security/0")
                .and_then(Value::as_object)
                .and_then(|r| r.values().next())
                .and_then(|scopes| scopes.pointer("/0"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let tag = op
                .pointer("/tags/0")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let curl = curl(base_url, method, path, needs_key, example.as_ref());
            list.push(Endpoint {
                order: (
                    tags.iter().position(|t| t == tag).unwrap_or(tags.len()),
                    path.clone(),
                    methods
                        .iter()
                        .position(|m| m == method)
                        .unwrap_or(methods.len()),
                ),
                method: method.to_uppercase(),
                path: path.clone(),
                anchor: text(op, "operationId"),
                summary: text(op, "summary"),
                description: rich(&text(op, "description")),
                needs_key,
                scope,
                parameters,
                body,
                curl,
                responses,
            });
        }
    }
    list.sort_by(|a, b| a.order.cmp(&b.order));
    list
}

fn schemas(doc: &Value) -> Vec<SchemaView> {
    let Some(all) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    all.iter()
        .map(|(name, schema)| {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(field, s)| FieldView {
                            name: field.clone(),
                            kind: kind(s),
                            required: required.contains(&field.as_str()),
                            description: rich(&with_limits(text(s, "description"), s)),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let values = schema
                .get("enum")
                .and_then(Value::as_array)
                .map(|vs| {
                    vs.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            SchemaView {
                name: name.clone(),
                description: rich(&text(schema, "description")),
                fields,
                values,
            }
        })
        .collect()
}

/// The first example of a schema, following a `$ref` to the components.
fn example_of(doc: &Value, schema: &Value) -> Option<Value> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.strip_prefix('#')?)?,
        None => schema,
    };
    schema.pointer("/examples/0").cloned()
}

fn curl(base_url: &str, method: &str, path: &str, needs_key: bool, body: Option<&Value>) -> String {
    let mut lines = vec![match method {
        "get" => format!("curl \"{base_url}{}\"", path.replace("{id}", "1")),
        other => format!(
            "curl -X {} \"{base_url}{}\"",
            other.to_uppercase(),
            path.replace("{id}", "1")
        ),
    }];
    if needs_key {
        lines.push("-H \"X-Api-Key: $KEYPORT_KEY\"".into());
    }
    if let Some(body) = body {
        lines.push("-H \"Content-Type: application/json\"".into());
        lines.push(format!("-d '{body}'"));
    }
    lines.join(" \\\n  ")
}

/// A schema in a few words: `string`, `Contact`, `array of Webhook`, `integer or null`.
fn kind(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(choices) = schema.get("oneOf").and_then(Value::as_array) {
        return choices.iter().map(kind).collect::<Vec<_>>().join(" or ");
    }
    let names: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => vec!["any".into()],
    };
    names
        .iter()
        .map(|t| match t.as_str() {
            "array" => format!(
                "array of {}",
                schema.get("items").map(kind).unwrap_or_default()
            ),
            "string" => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "string (date-time, UTC)".to_owned(),
                _ => "string".to_owned(),
            },
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The description, followed by the limits the schema sets.
fn with_limits(description: String, schema: &Value) -> String {
    let mut notes = Vec::new();
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        notes.push(format!("At most {max} characters."));
    }
    match (
        schema.get("minimum").and_then(Value::as_i64),
        schema.get("maximum").and_then(Value::as_i64),
    ) {
        (Some(min), Some(max)) => notes.push(format!("From {min} to {max}.")),
        (Some(min), None) => notes.push(format!("At least {min}.")),
        (None, Some(max)) => notes.push(format!("At most {max}.")),
        (None, None) => {}
    }
    if let Some(default) = schema.get("default") {
        notes.push(format!("Default {default}."));
    }
    std::iter::once(description)
        .chain(notes)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
