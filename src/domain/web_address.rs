//! The http(s) addresses keyport takes for a company's website and a webhook's URL. One grammar
//! serves both the check and the OpenAPI document, so what the document promises is exactly
//! what is accepted: a scheme, a host name in ASCII (letters, digits and single hyphens; the
//! last label starts with a letter) or an IPv4 address, an optional port, then anything without
//! spaces or control characters. The URL parser is more lenient than that (`*` in host names,
//! tabs dropped, `0x7f.1` read as an address), and programs deserve a rule they can read.

use std::sync::LazyLock;

use regex::Regex;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use super::{Result, invalid};

pub const MAX_CHARS: usize = 2048;
const DESCRIPTION: &str = "An http:// or https:// address: a host name (ASCII letters, digits \
    and single hyphens) or an IPv4 address, an optional port, and a path without spaces.";

const LABEL: &str = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*";
const LAST_LABEL: &str = r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*";
const OCTET: &str = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const PORT: &str =
    r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})";
const REST: &str = r"(?:[/?#][^\s\u0000-\u001F\u007F-\u009F]*)?";

/// The address itself, unanchored.
fn address() -> String {
    format!(
        r"[hH][tT][tT][pP][sS]?://(?:(?:{LABEL}\.)*{LAST_LABEL}|(?:{OCTET}\.){{3}}{OCTET})(?::{PORT})?{REST}"
    )
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^{}$", address())).expect("the web address grammar is a valid regex")
});

/// Checks an address and returns it trimmed, as typed otherwise. Not as the URL parser would
/// write it: that form percent-encodes what the grammar allows unencoded and can outgrow the
/// 2,048-character limit, so an address keyport gave back could be refused when sent again
/// (found by fuzz/run).
pub fn check(field: &'static str, text: &str) -> Result<String> {
    if text.chars().count() > MAX_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_CHARS} characters"),
        ));
    }
    let text = text.trim();
    if !ADDRESS.is_match(text) {
        return Err(invalid(
            field,
            "must be an http:// or https:// address with a host name or IPv4 address, like https://example.com/hooks",
        ));
    }
    url::Url::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| invalid(field, format!("is not a valid URL ({e})")))
}

/// The schema of a required address: surrounding whitespace is trimmed.
pub fn schema() -> impl Into<RefOr<Schema>> {
    string_schema(format!(r"^\s*{}\s*$", address()))
}

/// The schema of an optional address, where blank clears it.
pub fn optional_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some(format!("{DESCRIPTION} Blank or null clears it.")))
        .max_length(Some(MAX_CHARS))
        .pattern(Some(format!(r"^\s*(?:{})?\s*$", address())))
}

fn string_schema(pattern: String) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(DESCRIPTION))
        .max_length(Some(MAX_CHARS))
        .pattern(Some(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_what_the_grammar_describes_and_refuses_what_the_parser_alone_would_take() {
        for good in [
            "https://example.com",
            "http://hooks.example.com:8443/keyport?x=1#f",
            "HTTPS://1password.example/a%20b",
            "http://203.0.113.9:65535/",
            "  https://example.com/trimmed  ",
        ] {
            assert!(check("url", good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://example.com",
            "https://exa*mple.com",
            "https://example.123",
            "https://ex--ample.com",
            "https://user:pass@example.com",
            "http://[::1]/",
            "http://0x7f000001/",
            "http://example.com:65536/",
            "https://exam\tple.com",
            "https://example.com/\u{85}x",
            "https://",
        ] {
            assert!(check("url", bad).is_err(), "{bad}");
        }
    }
}
