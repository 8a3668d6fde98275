//! The API key format: `kp_` + 32 base62 characters from the OS CSPRNG (about 190 bits) + a
//! 6-character base62 CRC32 of the body. The prefix lets secret scanners spot leaked keys; the
//! checksum rejects a mistyped or truncated key before any database lookup.

use rand::distr::{Alphanumeric, Distribution};
use rand::rngs::OsRng;
use rand::{RngCore, TryRngCore};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "kp_";
const BODY_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
pub const KEY_LEN: usize = KEY_PREFIX.len() + BODY_LEN + CHECKSUM_LEN;
/// How much of the key lists show to identify it.
const DISPLAY_LEN: usize = KEY_PREFIX.len() + 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A full API key. It exists only between generation and the response that shows it, and
/// while a request is being authenticated; `Debug` prints the identifying prefix alone.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn generate() -> Self {
        let mut rng = OsRng.unwrap_err();
        let body: String = Alphanumeric
            .sample_iter(&mut rng)
            .take(BODY_LEN)
            .map(char::from)
            .collect();
        let checksum = checksum(body.as_bytes());
        Self(format!("{KEY_PREFIX}{body}{checksum}"))
    }

    /// Accepts a well-formed key with a correct checksum. The checksum comparison does not
    /// depend on where the first difference is.
    pub fn parse(candidate: &str) -> Option<Self> {
        if candidate.len() != KEY_LEN || !candidate.is_ascii() {
            return None;
        }
        let rest = candidate.strip_prefix(KEY_PREFIX)?;
        let (body, given) = rest.split_at(BODY_LEN);
        if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let expected = checksum(body.as_bytes());
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            Some(Self(candidate.to_owned()))
        } else {
            None
        }
    }

    /// The only form of the key that is stored.
    pub fn hash(&self) -> [u8; 32] {
        *blake3::hash(self.0.as_bytes()).as_bytes()
    }

    /// What lists show: `kp_` and the first characters of the body.
    pub fn prefix(&self) -> &str {
        &self.0[..DISPLAY_LEN]
    }

    /// The secret itself, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}…)", self.prefix())
    }
}

/// CRC32 of the body in six base62 digits (62^6 > 2^32), most significant first.
fn checksum(body: &[u8]) -> String {
    let mut n = crc32fast::hash(body);
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(n % 62) as usize];
        n /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// A random URL-safe token (for setup, invitation and password reset links), and its hash for storage.
pub fn random_token() -> (String, [u8; 32]) {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.unwrap_err().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// How a one-time token (setup, invitation, password reset) is stored and looked up.
pub fn token_hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

/// A Standard Webhooks signing secret: `whsec_` + base64 of 24 random bytes.
pub fn webhook_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    OsRng.unwrap_err().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// `text` with every keyport key in it (anything that parses: `kp_`, body, valid checksum)
/// replaced by its identifying prefix and `…[redacted]`, wherever it stands and whatever
/// names it: for logs and for addresses that are kept or echoed.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    let mut redacted = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(KEY_PREFIX) {
        let start = from + found;
        let end = start + KEY_LEN;
        match text.get(start..end).filter(|c| ApiKey::parse(c).is_some()) {
            Some(key) => {
                redacted.push_str(&text[copied..start]);
                redacted.push_str(&key[..DISPLAY_LEN]);
                redacted.push_str("…[redacted]");
                copied = end;
                from = end;
            }
            None => from = start + KEY_PREFIX.len(),
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    redacted.push_str(&text[copied..]);
    std::borrow::Cow::Owned(redacted)
}

/// Whether `text` holds a keyport key anywhere.
pub fn contains_key(text: &str) -> bool {
    matches!(redact(text), std::borrow::Cow::Owned(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted_wherever_they_stand() {
        let key = ApiKey::generate();
        let k = key.expose();
        for text in [
            format!("/api/v1/{k}"),
            format!("apikey={k}&b=2"),
            format!("{k}{k}"),
            format!("x kp_ kp_{k}"),
        ] {
            let shown = redact(&text);
            assert!(!shown.contains(k), "{shown}");
            assert!(shown.contains(key.prefix()), "{shown}");
            assert!(contains_key(&text));
        }
        // A string that is not a key (wrong checksum, cut short) is left as it is.
        let cut = &k[..KEY_LEN - 1];
        assert_eq!(redact(cut), cut);
        assert_eq!(redact("kp_ and more"), "kp_ and more");
        assert!(!contains_key(cut));
    }

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), KEY_LEN);
        assert_eq!(ApiKey::parse(a.expose()), Some(a.clone()));
        assert!(a.prefix().starts_with("kp_") && a.prefix().len() == 9);
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let key = ApiKey::generate();
        let mut chars: Vec<char> = key.expose().chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(ApiKey::parse(&typo), None);
        assert_eq!(ApiKey::parse(&key.expose()[..KEY_LEN - 1]), None);
    }

    #[test]
    fn debug_shows_only_the_prefix() {
        let key = ApiKey::generate();
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.expose()));
        assert!(shown.contains(key.prefix()));
    }
}
