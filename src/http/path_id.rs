//! Ids in paths. Only the canonical decimal spelling is an id (`7`, not `07`, `+7`, `7.0`,
//! `1e3` or `٧`), so each thing has exactly one address; anything else answers like a missing
//! id (404), through the path error handler.

use serde::de::{Deserialize, Deserializer, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub i64);

impl PathId {
    pub fn parse(text: &str) -> Option<Self> {
        let canonical = text == "0"
            || (text.starts_with(|c: char| matches!(c, '1'..='9'))
                && text.bytes().all(|b| b.is_ascii_digit()));
        if !canonical {
            return None;
        }
        text.parse().ok().map(PathId)
    }
}

impl<'de> Deserialize<'de> for PathId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PathId::parse(&text).ok_or_else(|| D::Error::custom("not an id"))
    }
}

// An id read from a path becomes the id of what the route names.
impl From<PathId> for crate::models::WebhookId {
    fn from(id: PathId) -> Self {
        Self(id.0)
    }
}

impl From<PathId> for crate::models::DeliveryId {
    fn from(id: PathId) -> Self {
        Self(id.0)
    }
}

impl From<PathId> for crate::models::UserId {
    fn from(id: PathId) -> Self {
        Self(id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::PathId;

    #[test]
    fn only_canonical_decimal_ids() {
        assert_eq!(PathId::parse("7"), Some(PathId(7)));
        assert_eq!(PathId::parse("0"), Some(PathId(0)));
        assert_eq!(PathId::parse("9223372036854775807"), Some(PathId(i64::MAX)));
        for odd in [
            "",
            "-1",
            "+7",
            "07",
            "1e3",
            "7.0",
            " 7",
            "٧",
            "9223372036854775808",
            "1;DROP",
        ] {
            assert_eq!(PathId::parse(odd), None, "{odd}");
        }
    }
}
