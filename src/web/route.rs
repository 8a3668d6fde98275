//! A route's pattern filled in: every address a page links to is written from the same
//! pattern its route is registered with, so the two cannot drift apart.

/// `fill("/users/{user}/webhooks/{id}", &[7, 3])` is `/users/7/webhooks/3`: each `{…}` segment
/// in turn takes the next id.
pub fn fill(pattern: &str, ids: &[i64]) -> String {
    let mut ids = ids.iter();
    pattern
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                ids.next()
                    .map_or_else(|| segment.to_owned(), i64::to_string)
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_placeholder_takes_the_next_id() {
        assert_eq!(
            super::fill("/admin/users/{user}/webhooks/{id}/status", &[7, 3]),
            "/admin/users/7/webhooks/3/status"
        );
        assert_eq!(super::fill("/settings", &[]), "/settings");
    }
}
