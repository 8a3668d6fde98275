//! The webhook URL rules on any input: they never panic, and an accepted URL is http(s), has
//! no credentials, no whitespace or control characters, at most 2,048 characters, and never a
//! literal address that is not public; accepting it again gives the same URL.
#![no_main]

use keyport::domain::delivery::egress::is_public;
use keyport::domain::webhooks::validate_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(accepted) = validate_url(text, false) else {
        return;
    };
    let url = url::Url::parse(&accepted).expect("an accepted URL parses");
    assert!(matches!(url.scheme(), "http" | "https"), "{accepted}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{accepted}"
    );
    assert!(
        !accepted
            .chars()
            .any(|c| c.is_whitespace() || c.is_control()),
        "{accepted:?}"
    );
    assert!(text.chars().count() <= 2048);
    match url.host() {
        Some(url::Host::Ipv4(ip)) => assert!(is_public(ip.into()), "{accepted}"),
        Some(url::Host::Ipv6(_)) => panic!("an IPv6 literal was taken: {accepted}"),
        Some(url::Host::Domain(name)) => {
            assert!(!name.eq_ignore_ascii_case("localhost"), "{accepted}");
            // A name is never an address in disguise (2130706433, 0x7f.1, 0177.1).
            assert!(name.parse::<std::net::Ipv4Addr>().is_err(), "{accepted}");
            assert!(
                name.rsplit('.')
                    .next()
                    .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic())),
                "{accepted}"
            );
        }
        None => panic!("no host: {accepted}"),
    }
    assert_eq!(
        validate_url(&accepted, false).ok().as_deref(),
        Some(accepted.as_str())
    );
});
