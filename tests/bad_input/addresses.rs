//! Addresses: odd ids in paths, and webhook URLs that would reach keyport's own network.

use reqwest::Method as M;
use serde_json::json;

use super::Who::*;
use super::{Case, Fixtures, NOTHING, case};

pub fn addresses(f: &Fixtures) -> Vec<Case> {
    let add = f.add;
    let w = f.world;
    let mut cases = Vec::new();
    // Odd ids answer like a missing one, on the pages and the API.
    for id in [
        "0",
        "-1",
        "9223372036854775808",
        "1e3",
        &format!("0{}", w.user_hook),
        "1%3BDROP%20TABLE%20users",
        "%2e%2e%2f",
        "%D9%A1",
    ] {
        cases.push(
            case(
                format!("webhook page id {id}"),
                User,
                M::GET,
                format!("/settings/api-access/webhooks/{id}"),
            )
            .expect(404, NOTHING),
        );
        cases.push(
            case(
                format!("API webhook id {id}"),
                Program,
                M::DELETE,
                format!("/api/v1/webhooks/{id}"),
            )
            .key(&w.user_key)
            .expect(404, NOTHING),
        );
    }
    cases.push(
        case(
            "a user id that is not canonical",
            Admin,
            M::GET,
            format!("/admin/api-management/users/0{}", w.other.id),
        )
        .expect(404, NOTHING),
    );
    // Webhook URLs that would reach keyport's own network.
    for url in [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://0177.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://10.0.0.8:8080/",
        "http://192.168.1.1/",
        "http://user:pass@hooks.example.com/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://localhost:8080/",
        "http://metadata.localhost/",
        "gopher://hooks.example.com/",
    ] {
        let host = url
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        let refused = if host.parse::<std::net::Ipv4Addr>().is_ok() {
            format!("must not point at {host}: deliveries go only to public addresses")
        } else if url.contains("localhost") {
            "must not point at localhost".to_owned()
        } else {
            "must be an http:// or https:// address".to_owned()
        };
        cases.push(
            case(
                format!("API webhook to {url}"),
                Program,
                M::POST,
                "/api/v1/webhooks",
            )
            .key(&w.user_key)
            .json(json!({"url": url, "entity": "Contact", "operation_type": "Create"}))
            .expect(422, format!("url: {refused}")),
        );
        cases.push(
            case(format!("page webhook to {url}"), User, M::POST, add)
                .form(
                    &Fixtures::hook_form(url)
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect::<Vec<_>>(),
                )
                .expect(422, format!("The webhook URL {refused}")),
        );
    }
    cases
}
