//! The one rule for text a program sends in a record: counted as sent, trimmed, never holding
//! control characters or text-direction overrides; and the same rule as the OpenAPI
//! document's pattern, so schema-valid text is accepted and nothing else.

use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::domain::{Result, invalid};

/// Text with no control characters or direction overrides, not blank, with surrounding
/// whitespace allowed (it is trimmed).
const TEXT_PATTERN: &str = r"^\s*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069](?:[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069])?\s*$";

/// The schema of a text field that POST requires, of at most `max` characters.
fn required(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("Required when creating."))
        .max_length(Some(max))
        .pattern(Some(TEXT_PATTERN))
}

/// A required name of at most 100 characters (a contact's first and last name).
pub fn required_100() -> ObjectBuilder {
    required(100)
}

/// A required name of at most 200 characters (a company's name, a job's title).
pub fn required_200() -> ObjectBuilder {
    required(200)
}

/// A required text field: trimmed, present when creating, never emptied.
pub fn required_text(
    field: &'static str,
    value: &mut Option<String>,
    creating: bool,
    max: usize,
) -> Result<()> {
    match value {
        None if creating => Err(invalid(field, "is required")),
        None => Ok(()),
        Some(text) => {
            check_text(field, text, max)?;
            if text.is_empty() {
                Err(invalid(field, "must not be empty"))
            } else {
                Ok(())
            }
        }
    }
}

/// An optional text field: trimmed; an empty string clears it.
pub fn optional_text(
    field: &'static str,
    value: &mut Option<Option<String>>,
    max: usize,
) -> Result<()> {
    if let Some(Some(text)) = value {
        check_text(field, text, max)?;
        if text.is_empty() {
            *value = Some(None);
        }
    }
    Ok(())
}

/// Counts the length as sent, as the OpenAPI document's `maxLength` does, then trims
/// surrounding whitespace (tabs and line breaks too) and refuses control characters and
/// direction overrides within.
fn check_text(field: &'static str, text: &mut String, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    *text = text.trim().to_owned();
    if text.chars().any(is_refused_char) {
        return Err(invalid(
            field,
            "must not contain control characters or text-direction overrides",
        ));
    }
    Ok(())
}

/// Characters refused inside names and text: controls, and the bidirectional overrides and
/// isolates that make text display in another order than it is stored ("Trojan Source").
pub fn is_refused_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
