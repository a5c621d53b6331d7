//! Keeps credentials out of diagnostics.

/// The URL for a message: user-info replaced with `REDACTED:REDACTED`, and
/// the value of every query parameter with `REDACTED` (an endpoint's query
/// may carry a token).
pub(crate) fn url(u: &str) -> String {
    let (u, fragment) = match u.split_once('#') {
        Some((u, _)) => (u, "#REDACTED"),
        None => (u, ""),
    };
    let (u, query) = match u.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (u, None),
    };
    let mut out = match u.find("://") {
        Some(scheme_end) => {
            let rest = &u[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!(
                    "{}REDACTED:REDACTED@{}",
                    &u[..scheme_end + 3],
                    &rest[at + 1..]
                ),
                None => u.to_owned(),
            }
        }
        None => u.to_owned(),
    };
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) => format!("{k}=REDACTED"),
                None => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_info_query_values_and_fragments_are_redacted() {
        assert_eq!(
            super::url("https://user:secret@collector:4318/v1/traces"),
            "https://REDACTED:REDACTED@collector:4318/v1/traces"
        );
        assert_eq!(super::url("http://collector:4317"), "http://collector:4317");
        assert_eq!(
            super::url("http://c:4318/v1/traces?tenant=a&token=s3cret&flag#frag"),
            "http://c:4318/v1/traces?tenant=REDACTED&token=REDACTED&flag#REDACTED"
        );
        assert_eq!(
            super::url("http://u:p@[::1]:4318?k=v"),
            "http://REDACTED:REDACTED@[::1]:4318?k=REDACTED"
        );
    }
}
