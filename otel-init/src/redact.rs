//! Keeps credentials out of diagnostics.

/// Replaces the user-info of a URL with `REDACTED:REDACTED`.
pub(crate) fn url(u: &str) -> String {
    let Some(scheme_end) = u.find("://") else {
        return u.to_owned();
    };
    let rest = &u[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!(
            "{}REDACTED:REDACTED@{}",
            &u[..scheme_end + 3],
            &rest[at + 1..]
        ),
        None => u.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_info_is_redacted() {
        assert_eq!(
            super::url("https://user:secret@collector:4318/v1/traces"),
            "https://REDACTED:REDACTED@collector:4318/v1/traces"
        );
        assert_eq!(super::url("http://collector:4317"), "http://collector:4317");
    }
}
