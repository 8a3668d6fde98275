//! What a request may carry: methods, fields it does not take, search text, overlong and
//! hostile text, bodies too large or too deep.

use reqwest::Method as M;
use serde_json::json;

use super::Who::*;
use super::{Case, Csrf, Fixtures, METHOD, case};

pub fn requests(f: &Fixtures) -> Vec<Case> {
    let enable = f.enable;
    let add = f.add;
    let own = &f.own;
    let other_user = &f.other_user;
    let api_own = &f.api_own;
    let w = f.world;
    #[rustfmt::skip]
    let cases = vec![
        // Methods and method overrides.
        case("PUT on enable", User, M::PUT, enable).expect(405, METHOD),
        case("DELETE on a webhook's delete", User, M::DELETE, format!("{own}/delete")).expect(405, METHOD),
        case("PATCH on Clear API Key", Admin, M::PATCH, format!("{other_user}/clear")).expect(405, METHOD),
        case("a GET with X-HTTP-Method-Override: DELETE", User, M::GET, own.clone())
            .header("x-http-method-override", "DELETE").expect(200, "https://hooks.example.com/ulla"),
        case("a form with _method=DELETE", User, M::POST, format!("{own}/status"))
            .form(&[("status", "On"), ("_method", "DELETE")]).expect(400, "unknown field `_method`"),
        case("API: DELETE /me", Program, M::DELETE, "/api/v1/me").key(&w.user_key).expect(405, "This endpoint accepts GET."),
        case("API: POST on a webhook with X-HTTP-Method-Override: DELETE", Program, M::POST, api_own.clone())
            .key(&w.user_key).header("x-http-method-override", "DELETE").json(json!({}))
            .expect(405, "This endpoint accepts DELETE, GET, PATCH."),
        // Mass assignment.
        case("add a webhook for someone else (user_id)", User, M::POST, add)
            .form(&[("url", "https://hooks.example.com/m"), ("entity", "Contact"), ("operation_type", "Create"), ("user_id", &w.other.id.to_string())])
            .expect(400, "unknown field `user_id`"),
        case("turn a webhook on with role=admin", User, M::POST, format!("{own}/status"))
            .form(&[("status", "On"), ("role", "admin")]).expect(400, "unknown field `role`"),
        case("Regenerate New Key with role=admin", User, M::POST, "/settings/api-access/regenerate")
            .form(&[("role", "admin")]).expect(400, "unknown field `role`"),
        case("sign in with role=admin", Anonymous, M::POST, "/login")
            .form(&[("email", "x@example.com"), ("password", "whatever it is"), ("role", "admin")]).expect(400, "unknown field `role`"),
        case("Clear API Key with user_id", Admin, M::POST, format!("{other_user}/clear"))
            .form(&[("reason", "x"), ("user_id", "1")]).expect(400, "unknown field `user_id`"),
        case("API: a webhook with user_id", Program, M::POST, "/api/v1/webhooks").key(&w.user_key)
            .json(json!({"url": "https://hooks.example.com/m", "entity": "Contact", "operation_type": "Create", "user_id": w.other.id.0}))
            .expect(422, "unknown field `user_id`"),
        case("API: a webhook change with secret", Program, M::PATCH, api_own.clone()).key(&w.user_key)
            .json(json!({"secret": "whsec_mine"})).expect(422, "unknown field `secret`"),
        case("API: a contact with created_by", Program, M::POST, "/api/v1/contacts").key(&w.user_key)
            .json(json!({"first_name": "A", "last_name": "B", "created_by": 1})).expect(422, "unknown field `created_by`"),
        // Search: SQL and LIKE metacharacters are taken literally.
        case("search for %", Admin, M::GET, "/admin/api-management?q=%25").expect(200, "Nobody with API Access on has a name or email starting with “%”"),
        case("search for _", Admin, M::GET, "/admin/api-management?q=_").expect(200, "starting with “_”"),
        case("search for '", Admin, M::GET, "/admin/api-management?q=%27").expect(200, "starting with “'”"),
        case("search for \\", Admin, M::GET, "/admin/api-management?q=%5C").expect(200, "starting with “\\”"),
        case("search for ' OR 1=1 --", Admin, M::GET, "/admin/api-management?q=%27%20OR%201%3D1%20--").expect(200, "starting with “' OR 1=1 --”"),
        case("search with a NUL", Admin, M::GET, "/admin/api-management?q=a%00b").expect(422, "Search: enter at most"),
        case("a search of 10 KB", Admin, M::GET, format!("/admin/api-management?q={}", "a".repeat(10_240))).expect(422, "Search: enter at most"),
        case("a page cursor that is not a number", Admin, M::GET, "/admin/api-management?after=1%3BDROP").expect(400, "The address is not valid"),
        // Overlong fields, NUL, CR/LF, direction overrides, invalid UTF-8.
        case("a 10 KB name (API)", Program, M::POST, "/api/v1/contacts").key(&w.user_key)
            .json(json!({"first_name": "n".repeat(10_240), "last_name": "B"})).expect(422, "first_name: must be at most"),
        case("a 1 MB password", Anonymous, M::POST, "/login")
            .form(&[("email", "x@example.com"), ("password", &"p".repeat(1 << 20))]).expect(413, "The form is too large."),
        case("a 2,049-character webhook URL (page)", User, M::POST, add)
            .form(&[("url", &format!("https://hooks.example.com/{}", "a".repeat(2049 - 26))), ("entity", "Contact"), ("operation_type", "Create")])
            .expect(422, "The webhook URL must be at most 2048 characters."),
        case("a 2,049-character webhook URL (API)", Program, M::POST, "/api/v1/webhooks").key(&w.user_key)
            .json(json!({"url": format!("https://hooks.example.com/{}", "a".repeat(2049 - 26)), "entity": "Contact", "operation_type": "Create"}))
            .expect(422, "url: must be at most 2048 characters"),
        case("a webhook URL with a NUL", User, M::POST, add)
            .form(&[("url", "https://hooks.example.com/a\0b"), ("entity", "Contact"), ("operation_type", "Create")])
            .expect(422, "The webhook URL must be an http:// or https:// address"),
        case("a webhook URL with CR/LF", User, M::POST, add)
            .form(&[("url", "https://hooks.example.com/a\r\nX-Injected: 1"), ("entity", "Contact"), ("operation_type", "Create")])
            .expect(422, "The webhook URL must be an http:// or https:// address"),
        case("a name with a right-to-left override", Program, M::POST, "/api/v1/contacts").key(&w.user_key)
            .json(json!({"first_name": "Ann\u{202E}gpj.exe", "last_name": "B"})).expect(422, "text-direction overrides"),
        case("a name with a NUL", Program, M::POST, "/api/v1/companies").key(&w.user_key)
            .json(json!({"name": "Acme\u{0}Corp"})).expect(422, "must not contain control characters"),
        case("a form that is not UTF-8 (escaped)", User, M::POST, add)
            .raw("application/x-www-form-urlencoded", b"url=https://hooks.example.com/%FF%FE&entity=Contact&operation_type=Create".to_vec())
            .csrf(Csrf::OwnHeader).expect(400, "The form is not valid: it is not UTF-8 text."),
        case("a form that is not UTF-8 (raw bytes)", User, M::POST, add)
            .raw("application/x-www-form-urlencoded", b"url=https://hooks.example.com/\xfe&entity=Contact&operation_type=Create".to_vec())
            .csrf(Csrf::OwnHeader).expect(400, "The form is not valid: it is not UTF-8 text."),
        case("a clear reason of 10 KB", Admin, M::POST, format!("{other_user}/clear"))
            .form(&[("reason", &"r".repeat(10_240))]).expect(422, "Reason: use at most 500 characters."),
        // Bodies: too large, too many fields, too deep.
        case("a 100 MB JSON body", Program, M::POST, "/api/v1/contacts").key(&w.user_key)
            .huge("application/json", 100 << 20).expect(413, "The JSON body is too large."),
        case("a 100 MB form", Program, M::POST, "/login")
            .huge("application/x-www-form-urlencoded", 100 << 20).expect(413, "The form is too large."),
        case("a form with 1,000 fields", User, M::POST, add)
            .form(&(0..1000).map(|i| (format!("f{i}"), "x".to_owned())).collect::<Vec<_>>().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
            .expect(400, "The form is not valid"),
        case("JSON nested 10,000 deep", Program, M::POST, "/api/v1/contacts").key(&w.user_key)
            .raw("application/json", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes())
            .expect(400, "recursion limit exceeded"),
        case("JSON that is not JSON", Program, M::POST, "/api/v1/contacts").key(&w.user_key)
            .raw("application/json", b"{\"first_name\": ".to_vec()).expect(400, "The body is not valid JSON"),
    ];
    cases
}
