//! The scrape endpoint: HTTP/1 on the export thread's runtime, never on the
//! application's. Bounded: at most [`MAX_CONNECTIONS`] connections at once
//! (more wait in the kernel's accept queue), request heads of at most
//! [`MAX_HEAD`] bytes read within [`HEAD_TIMEOUT`], request bodies never
//! read, and each connection closed after [`CONNECTION_LIFETIME`] (its
//! response in flight is finished first), so a slow scraper holds at most one
//! response's memory for a bounded time. Each scrape collects once.

use super::PrometheusReader;
use super::encode::Format;
use super::exemplar::ExemplarSource;
use crate::export::runtime::Closing;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

/// Connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 8;
/// The largest request head read (hyper's minimum buffer).
pub(crate) const MAX_HEAD: usize = 8192;
/// How long a client may take to send a request head.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one connection is kept, across keep-alive scrapes.
pub(crate) const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);

/// What one scrape needs.
struct Endpoint {
    reader: PrometheusReader,
    exemplars: Arc<dyn ExemplarSource>,
    /// Whether the metrics a scrape had to leave out were warned about.
    warned: AtomicBool,
}

/// Serves `listener` on `handle` until shutdown begins (`closing`) or the
/// runtime stops. Returns the address it serves on.
pub(crate) fn serve(
    listener: std::net::TcpListener,
    reader: PrometheusReader,
    exemplars: Arc<dyn ExemplarSource>,
    handle: &Handle,
    closing: Arc<Closing>,
) -> std::io::Result<SocketAddr> {
    let address = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let listener = {
        let _entered = handle.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    let endpoint = Arc::new(Endpoint {
        reader,
        exemplars,
        warned: AtomicBool::new(false),
    });
    handle.spawn(accept_loop(listener, endpoint, closing));
    Ok(address)
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    endpoint: Arc<Endpoint>,
    closing: Arc<Closing>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
            () = closing.wait() => return,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: try again a little later.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = closing.wait() => return,
        };
        let endpoint = endpoint.clone();
        let closing = closing.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let response = endpoint.respond(&request);
                async move { Ok::<_, Infallible>(response) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                () = tokio::time::sleep(CONNECTION_LIFETIME) => {}
                () = closing.wait() => {}
            }
            // Finish the response in flight, then close.
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(HEAD_TIMEOUT, connection).await;
        });
    }
}

impl Endpoint {
    fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        if request.uri().path() != "/metrics" {
            return plain(
                StatusCode::NOT_FOUND,
                "not found: the metrics are at /metrics\n",
            );
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD\n");
            r.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let format = Format::negotiate(accept);
        let (body, skipped) = match self.reader.scrape(format, &*self.exemplars) {
            Ok(scraped) => scraped,
            Err(e) => {
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("metrics unavailable: {e}\n"),
                );
            }
        };
        let left_out = skipped.conflicting.len() + skipped.unsupported.len();
        if left_out > 0 && !self.warned.swap(true, Ordering::Relaxed) {
            crate::diag::warn(format_args!(
                "the prometheus exporter leaves out {left_out} instrument(s): {:?} have a Prometheus name another instrument of a different type already has, {:?} are exponential histograms or delta sums, which Prometheus' text formats cannot carry (warned once)",
                skipped.conflicting, skipped.unsupported
            ));
        }
        let mut response = Response::new(Full::new(Bytes::from(body)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(format.content_type()),
        );
        response
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
