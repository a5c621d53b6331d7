//! What callers and retry middleware pass through the request's `Extensions`:
//! the [`UrlTemplate`] a caller supplies, and the count of sends of one request
//! that lets the middleware record `http.request.resend_count`.

use http::Extensions;
use opentelemetry::StringValue;
use reqwest::Request;
use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The low-cardinality template of the URL's path (`url.template`), supplied
/// by the caller as a request extension: the span is then named
/// `{method} {url.template}` instead of `{method}`.
///
/// ```
/// use otel_reqwest::UrlTemplate;
/// use otel_reqwest::reqwest_middleware::ClientBuilder;
///
/// # async fn call(client: otel_reqwest::reqwest_middleware::ClientWithMiddleware) {
/// let user = 42;
/// let response = client
///     .get(format!("http://users.internal/users/{user}"))
///     .with_extension(UrlTemplate::new("/users/{id}"))
///     .send()
///     .await;
/// # }
/// ```
///
/// Never build a template from the values themselves: every distinct template
/// is a distinct span name.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlTemplate(StringValue);

impl UrlTemplate {
    /// A template such as `/users/{id}` (a `&'static str` is not copied).
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        Self(StringValue::from(template.into()))
    }

    /// The template.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn value(&self) -> StringValue {
        self.0.clone()
    }
}

/// How often the middleware has seen one request: a retry middleware placed
/// before ours (reqwest-retry, or any other) sends the same request again with
/// the same `Extensions`. The fingerprint (method and URL) tells a resend from
/// a different request sent with a reused `Extensions`.
#[derive(Debug, Clone, Copy)]
struct SendAttempts {
    fingerprint: u64,
    sent: u32,
}

fn fingerprint(request: &Request) -> u64 {
    let mut hasher = DefaultHasher::new();
    request.method().hash(&mut hasher);
    request.url().as_str().hash(&mut hasher);
    hasher.finish()
}

/// Counts this send of `request`: `None` for the first, `Some(n)` for the
/// n-th resend (`http.request.resend_count`).
pub(crate) fn count_send(extensions: &mut Extensions, request: &Request) -> Option<u32> {
    let fingerprint = fingerprint(request);
    match extensions.get_mut::<SendAttempts>() {
        Some(attempts) if attempts.fingerprint == fingerprint => {
            let resends = attempts.sent;
            attempts.sent = attempts.sent.saturating_add(1);
            Some(resends)
        }
        _ => {
            extensions.insert(SendAttempts {
                fingerprint,
                sent: 1,
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> Request {
        Request::new(reqwest::Method::GET, reqwest::Url::parse(url).expect("url"))
    }

    #[test]
    fn resends_of_one_request_are_counted() {
        let mut ext = Extensions::new();
        let r = request("http://a.example/x");
        assert_eq!(count_send(&mut ext, &r), None);
        assert_eq!(count_send(&mut ext, &r), Some(1));
        assert_eq!(count_send(&mut ext, &r), Some(2));
    }

    #[test]
    fn a_different_request_starts_again() {
        let mut ext = Extensions::new();
        assert_eq!(count_send(&mut ext, &request("http://a.example/x")), None);
        assert_eq!(count_send(&mut ext, &request("http://a.example/y")), None);
        assert_eq!(
            count_send(&mut ext, &request("http://a.example/y")),
            Some(1)
        );
    }

    #[test]
    fn templates() {
        assert_eq!(UrlTemplate::new("/a/{id}").as_str(), "/a/{id}");
        assert_eq!(UrlTemplate::new(String::from("/b")).as_str(), "/b");
    }
}
