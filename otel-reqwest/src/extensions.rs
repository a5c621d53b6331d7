//! What callers and retry middleware pass through the request's `Extensions`:
//! the [`UrlTemplate`] a caller supplies, and the count of sends of one request
//! that lets the middleware record `http.request.resend_count`.

use http::Extensions;
use opentelemetry::StringValue;
use reqwest::Request;
use std::borrow::Cow;

/// The low-cardinality template of the URL's path (`url.template`), supplied
/// by the caller as a request extension: the span is then named
/// `{method} {url.template}` instead of `{method}`.
///
/// ```
/// use otel_reqwest::UrlTemplate;
/// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
/// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
/// # /// Answers every request in place of a server: no network.
/// # struct Reply;
/// # #[async_trait::async_trait]
/// # impl Middleware for Reply {
/// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
/// #         -> reqwest_middleware::Result<reqwest::Response> {
/// #         Ok(http::Response::new("ok").into())
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
/// #     .with(OtelMiddleware::new())
/// #     .with(Reply)
/// #     .build();
/// let user = 42;
/// let response = client
///     .get(format!("http://users.internal/users/{user}"))
///     .with_extension(UrlTemplate::new("/users/{id}")) // span "GET /users/{id}"
///     .send()
///     .await?;
/// assert_eq!(response.status(), 200);
/// # Ok(()) }
/// ```
///
/// Never build a template from the values themselves: every distinct template
/// is a distinct span name.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlTemplate(StringValue);

impl UrlTemplate {
    /// A template such as `/users/{id}` (a `&'static str` is not copied).
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # use otel_reqwest::reqwest_middleware::{self, ClientBuilder, Middleware, Next};
    /// # use otel_reqwest::{Extensions, OtelMiddleware, reqwest};
    /// # /// Answers every request in place of a server: no network.
    /// # struct Reply;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for Reply {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         let response = http::Response::builder()
    /// #             .header("content-type", "text/plain")
    /// #             .header("x-cache", "HIT")
    /// #             .body("ok")
    /// #             .unwrap();
    /// #         Ok(response.into())
    /// #     }
    /// # }
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// use otel_reqwest::UrlTemplate;
    ///
    /// // `provider` exports to memory; `Reply` answers in place of a server.
    /// let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
    ///     .with(OtelMiddleware::builder().tracer_provider(&provider).build())
    ///     .with(Reply)
    ///     .build();
    /// let user = 42;
    /// client
    ///     .get(format!("http://users.internal/users/{user}"))
    ///     .with_extension(UrlTemplate::new("/users/{id}"))
    ///     .send()
    ///     .await?;
    /// let span = spans.get_finished_spans()?.pop().expect("the client span");
    /// assert_eq!(span.name, "GET /users/{id}");
    /// assert_eq!(attr(&span, "url.template").as_deref(), Some("/users/{id}"));
    /// # Ok(()) }
    /// ```
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        Self(StringValue::from(template.into()))
    }

    /// The template.
    ///
    /// ```
    /// use otel_reqwest::UrlTemplate;
    ///
    /// assert_eq!(UrlTemplate::new("/users/{id}").as_str(), "/users/{id}");
    /// let owned = format!("/{}/{{id}}", "orders");
    /// assert_eq!(UrlTemplate::new(owned).as_str(), "/orders/{id}");
    /// ```
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

/// FNV-1a of the method and URL: tells requests apart (not an adversary's
/// input: a collision only miscounts a resend), at a fraction of SipHash's cost.
fn fingerprint(request: &Request) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let method = request.method().as_str().as_bytes();
    let url = request.url().as_str().as_bytes();
    method
        .iter()
        .chain(b" ")
        .chain(url)
        .fold(OFFSET, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
        })
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
    fn another_method_is_another_request() {
        let mut ext = Extensions::new();
        let r = request("http://a.example/x");
        let mut post = request("http://a.example/x");
        *post.method_mut() = reqwest::Method::POST;
        assert_eq!(count_send(&mut ext, &r), None);
        assert_eq!(count_send(&mut ext, &post), None);
        assert_eq!(count_send(&mut ext, &post), Some(1));
        assert_ne!(fingerprint(&r), fingerprint(&post));
    }

    #[test]
    fn templates() {
        assert_eq!(UrlTemplate::new("/a/{id}").as_str(), "/a/{id}");
        assert_eq!(UrlTemplate::new(String::from("/b")).as_str(), "/b");
    }
}
