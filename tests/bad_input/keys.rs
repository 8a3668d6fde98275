//! Keys that are not keys: two headers, the wrong scheme, stray characters, near misses.

use reqwest::Method as M;

use super::Who::*;
use super::{Case, Fixtures, NO_KEY, case};

fn key_variants(key: &str) -> Vec<(&'static str, String)> {
    let mut bad_checksum = key.to_owned();
    let last = bad_checksum.pop().expect("a key");
    bad_checksum.push(if last == 'A' { 'B' } else { 'A' });
    vec![
        ("an empty key", String::new()),
        ("the prefix only", "kp_".to_owned()),
        ("a wrong checksum", bad_checksum),
        ("one character short", key[..key.len() - 1].to_owned()),
        ("one character long", format!("{key}A")),
        (
            "another product's key",
            "sk_live_0123456789abcdefghijklmnopqrstuv".to_owned(),
        ),
    ]
}

pub fn keys(f: &Fixtures) -> Vec<Case> {
    let w = f.world;
    #[rustfmt::skip]
    let mut cases = vec![
        // Malformed keys: two headers, the wrong scheme, a line break.
        case("two X-Api-Key headers", Program, M::GET, "/api/v1/me")
            .header("x-api-key", w.user_key.clone()).header("x-api-key", w.user_key.clone()).expect(401, NO_KEY),
        case("two Authorization headers", Program, M::GET, "/api/v1/me")
            .header("authorization", format!("Bearer {}", w.user_key)).header("authorization", format!("Bearer {}", w.user_key)).expect(401, NO_KEY),
        case("lowercase bearer with a wrong key", Program, M::GET, "/api/v1/me")
            .header("authorization", "bearer kp_00000000000000000000000000000000AAAAAA").expect(401, NO_KEY),
        case("the key as Basic credentials", Program, M::GET, "/api/v1/me")
            .header("authorization", "Basic a3BfOnNlY3JldA==").expect(401, NO_KEY),
        case("a key with a trailing newline in a link", Program, M::GET, format!("/api/v1/me?api_key={}%0A", w.user_key)).expect(401, NO_KEY),
        case("a key with a trailing space in a link", Program, M::GET, format!("/api/v1/me?api_key={}%20", w.user_key)).expect(401, NO_KEY),
        case("no key at all", Program, M::GET, "/api/v1/me").expect(401, NO_KEY),
    ];
    for (what, key) in key_variants(&w.user_key) {
        cases.push(
            case(format!("X-Api-Key: {what}"), Program, M::GET, "/api/v1/me")
                .key(&key)
                .expect(401, NO_KEY),
        );
        cases.push(
            case(
                format!("Bearer: {what}"),
                Program,
                M::GET,
                "/api/v1/contacts",
            )
            .header("authorization", format!("Bearer {key}"))
            .expect(401, NO_KEY),
        );
    }
    cases
}
