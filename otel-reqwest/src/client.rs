//! Ready-made clients: a `reqwest::ClientBuilder` whose TLS works out of the
//! box, and a traced `ClientWithMiddleware` in one call.

use crate::middleware::OtelMiddleware;
use reqwest_middleware::ClientWithMiddleware;

/// `reqwest::Client::builder()`, ready for HTTPS.
///
/// With the `rustls` feature (a default), reqwest uses rustls with the *ring*
/// crypto provider rather than aws-lc-rs (no C toolchain, faster builds).
/// reqwest then needs a process-wide rustls provider before a client is built;
/// this function installs ring as that provider unless one is installed already.
/// Build clients with it (or install a provider yourself) instead of calling
/// `reqwest::Client::new()` directly.
///
/// ```
/// # fn main() -> Result<(), otel_reqwest::reqwest::Error> {
/// let client = otel_reqwest::reqwest_client_builder()
///     .timeout(std::time::Duration::from_secs(10))
///     .build()?;
/// # Ok(())
/// # }
/// ```
pub fn reqwest_client_builder() -> reqwest::ClientBuilder {
    #[cfg(feature = "rustls")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
}

/// A client with [`OtelMiddleware`] and its defaults: the quickest adoption.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?; // a loopback server answering "ok" to every path
/// # tokio::spawn(async move {
/// #     axum::serve(listener, axum::Router::new().fallback(|| async { "ok" })).await
/// # });
/// # let inventory = format!("http://{addr}");
/// let client = otel_reqwest::traced_client()?; // after init_telemetry
/// let response = client.get(format!("{inventory}/items")).send().await?;
/// assert_eq!(response.status(), 200);
/// # Ok(()) }
/// ```
pub fn traced_client() -> Result<ClientWithMiddleware, reqwest::Error> {
    let client = reqwest_client_builder().build()?;
    Ok(reqwest_middleware::ClientBuilder::new(client)
        .with(OtelMiddleware::new())
        .build())
}
