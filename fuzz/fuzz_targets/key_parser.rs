//! The API key parser on any input: it never panics, and what it accepts is exactly a key:
//! `kp_`, 32 base62 characters, and the checksum of those characters.
#![no_main]

use keyport::domain::keys::{ApiKey, KEY_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(key) = ApiKey::parse(text) {
        assert_eq!(key.expose(), text);
        assert_eq!(text.len(), KEY_LEN);
        assert!(text.starts_with("kp_"));
        assert!(text[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        // A key that parses keeps parsing, and hashes the same every time.
        let again = ApiKey::parse(key.expose()).expect("parses again");
        assert_eq!(again.hash(), key.hash());
    }
});
