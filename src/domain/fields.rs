//! How request bodies read: what PATCH's absent, `null` and present mean, and ids as JSON
//! writes them. Shared by the records' and the webhooks' bodies.

/// For PATCH bodies: an absent field is `None` (leave it), `null` is `Some(None)` (clear it).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// A reference to a record, for PATCH semantics like `double_option`. JSON Schema's `integer`
/// includes `7.0`, so a whole number written as a float is taken too.
pub fn nullable_id<'de, D>(deserializer: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let Some(number): Option<serde_json::Number> = serde::Deserialize::deserialize(deserializer)?
    else {
        return Ok(Some(None));
    };
    number
        .as_i64()
        // Exactly representable whole numbers only: |v| < 2^63.
        .or_else(|| {
            number
                .as_f64()
                .filter(|v| v.fract() == 0.0 && v.abs() < 9.223_372_036_854_776e18)
                .map(|v| v as i64)
        })
        .map(|id| Some(Some(id)))
        .ok_or_else(|| serde::de::Error::custom(format!("{number} is not an integer id")))
}

/// For fields that may be left out but not sent as `null`.
pub fn not_null<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}
