//! `OTEL_HTTP_SENSITIVE_QUERY_KEYS` and `OTEL_HTTP_TRUSTED_PROXIES` reach the
//! layer's defaults (a test binary of its own: it sets the variables before
//! anything else runs).

mod common;

use axum::Router;
use axum::routing::get;
use common::{Peer, served_spans, value};

#[tokio::test]
async fn the_environment_adds_keys_and_trusted_proxies() {
    // SAFETY: the only test of this binary; nothing else reads the environment concurrently.
    unsafe {
        std::env::set_var("OTEL_HTTP_SENSITIVE_QUERY_KEYS", "otp, pin");
        std::env::set_var(
            "OTEL_HTTP_TRUSTED_PROXIES",
            "10.0.0.0/8, not-an-ip, 127.0.0.1",
        );
    }
    let app = Router::new().route("/p", get(|| async { "ok" }));
    let spans = served_spans(
        app,
        |b| b,
        Peer::ConnectInfo,
        &[(
            "/p?otp=1&PIN=2&token=3&page=4",
            &[("x-forwarded-for", "203.0.113.7, 10.0.0.2")],
        )],
    )
    .await;
    assert_eq!(
        value(&spans[0], "url.query").as_deref(),
        Some("otp=REDACTED&PIN=REDACTED&token=REDACTED&page=4")
    );
    assert_eq!(
        value(&spans[0], "client.address").as_deref(),
        Some("203.0.113.7")
    );
}
