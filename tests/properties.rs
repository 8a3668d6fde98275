//! Properties, checked on generated input with proptest: the key format, the webhook URL rules
//! and the webhook signature.

use std::net::Ipv4Addr;

use keyport::domain::delivery::egress::is_public;
use keyport::domain::delivery::signing::sign;
use keyport::domain::keys::{ApiKey, KEY_LEN, webhook_secret};
use keyport::domain::webhooks::validate_url;
use proptest::prelude::*;

use crate::support::verify_signature;

const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// One generated key, rebuilt from its text so the strategy can shrink nothing away.
fn key() -> impl Strategy<Value = ApiKey> {
    Just(()).prop_map(|()| ApiKey::generate())
}

/// IPv4 addresses in every range that is not public.
fn private_ipv4() -> impl Strategy<Value = Ipv4Addr> {
    let in_net = |base: [u8; 4], prefix: u32| {
        any::<u32>().prop_map(move |n| {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            Ipv4Addr::from((u32::from(Ipv4Addr::from(base)) & mask) | (n & !mask))
        })
    };
    prop_oneof![
        in_net([0, 0, 0, 0], 8),
        in_net([10, 0, 0, 0], 8),
        in_net([100, 64, 0, 0], 10),
        in_net([127, 0, 0, 0], 8),
        in_net([169, 254, 0, 0], 16),
        in_net([172, 16, 0, 0], 12),
        in_net([192, 0, 0, 0], 24),
        in_net([192, 0, 2, 0], 24),
        in_net([192, 168, 0, 0], 16),
        in_net([198, 18, 0, 0], 15),
        in_net([198, 51, 100, 0], 24),
        in_net([203, 0, 113, 0], 24),
        in_net([224, 0, 0, 0], 4),
        in_net([240, 0, 0, 0], 4),
    ]
}

/// The ways a URL can spell a host, port and path.
fn url_for(host: String) -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("http"), Just("https"), Just("HTTP")],
        proptest::option::of(1u16..),
        "(/[a-z0-9._~-]{0,12}){0,3}",
    )
        .prop_map(move |(scheme, port, path)| match port {
            Some(port) => format!("{scheme}://{host}:{port}{path}"),
            None => format!("{scheme}://{host}{path}"),
        })
}

proptest! {
    #[test]
    fn a_generated_key_parses_back_to_itself(key in key()) {
        let parsed = ApiKey::parse(key.expose());
        prop_assert_eq!(parsed.as_ref().map(ApiKey::expose), Some(key.expose()));
        prop_assert_eq!(key.expose().len(), KEY_LEN);
    }

    #[test]
    fn any_single_character_change_is_refused(
        key in key(),
        at in 0..KEY_LEN,
        with in proptest::sample::select(BASE62.chars().chain("_-. ~é".chars()).collect::<Vec<_>>()),
    ) {
        let mut chars: Vec<char> = key.expose().chars().collect();
        prop_assume!(chars[at] != with);
        chars[at] = with;
        let changed: String = chars.into_iter().collect();
        prop_assert!(ApiKey::parse(&changed).is_none(), "{} was taken", changed);
    }

    #[test]
    fn a_key_one_character_short_or_long_is_refused(key in key(), extra in proptest::sample::select(BASE62.chars().collect::<Vec<_>>())) {
        let text = key.expose();
        let short = &text[..text.len() - 1];
        let long = format!("{text}{extra}");
        prop_assert!(ApiKey::parse(short).is_none());
        prop_assert!(ApiKey::parse(&long).is_none());
    }

    #[test]
    fn no_generated_private_address_passes_the_url_rules(
        url in private_ipv4().prop_flat_map(|ip| url_for(ip.to_string())),
    ) {
        prop_assert!(validate_url(&url, false).is_err(), "{} was taken", url);
        // An instance that allows private receivers takes it.
        prop_assert!(validate_url(&url, true).is_ok(), "{} was refused", url);
    }

    #[test]
    fn other_spellings_of_an_address_are_refused(ip in any::<u32>()) {
        let v4 = Ipv4Addr::from(ip);
        let [a, b, c, d] = v4.octets();
        for spelling in [
            ip.to_string(),
            format!("0x{ip:08x}"),
            format!("0{a:o}.{b}.{c}.{d}"),
            format!("[::ffff:{v4}]"),
            format!("[::{v4}]"),
        ] {
            let url = format!("http://{spelling}/hooks");
            prop_assert!(validate_url(&url, false).is_err(), "{} was taken", url);
        }
    }

    #[test]
    fn a_public_address_is_taken_exactly_when_it_is_public(ip in any::<u32>(), path in "(/[a-z0-9]{0,8}){0,2}") {
        let v4 = Ipv4Addr::from(ip);
        let url = format!("https://{v4}{path}");
        prop_assert_eq!(validate_url(&url, false).is_ok(), is_public(v4.into()), "{}", url);
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it(
        id in "msg_[A-Za-z0-9]{1,30}",
        timestamp in 0i64..4_000_000_000,
        body in "\\PC{0,300}",
        change in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let secret = webhook_secret();
        let signature = sign(&secret, &id, timestamp, &body).expect("a signature");
        let ts = timestamp.to_string();
        prop_assert!(verify_signature(&secret, &id, &ts, &body, &signature));

        // One character of the body changed.
        let mut chars: Vec<char> = body.chars().collect();
        if !chars.is_empty() {
            let at = change.index(chars.len());
            prop_assume!(chars[at] != replacement);
            chars[at] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(!verify_signature(&secret, &id, &ts, &changed, &signature));
        }
        // The id, the timestamp, and the secret.
        let other_id = format!("{}x", id);
        prop_assert!(!verify_signature(&secret, &other_id, &ts, &body, &signature));
        prop_assert!(!verify_signature(&secret, &id, &(timestamp + 1).to_string(), &body, &signature));
        prop_assert!(!verify_signature(&webhook_secret(), &id, &ts, &body, &signature));
        // One byte of the signature itself.
        let mut bytes = signature.clone().into_bytes();
        let at = 3 + change.index(bytes.len() - 3);
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(bytes).expect("ascii");
        prop_assume!(forged != signature);
        prop_assert!(!verify_signature(&secret, &id, &ts, &body, &forged));
    }
}
