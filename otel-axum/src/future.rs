//! [`ResponseFuture`]: records the response, catches panics, wraps the body.

use crate::body::OtelBody;
use crate::finish::Finisher;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use opentelemetry::context::WithContext;
use opentelemetry::trace::TraceContextExt;
use pin_project_lite::pin_project;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// The future of an [`OtelService`](crate::OtelService) call: runs the
    /// inner service's future with the server span's context attached,
    /// records the response status (and catches a panic, unless
    /// `catch_panics(false)`), then hands the body over to [`OtelBody`].
    ///
    /// ```
    /// use otel_axum::{OtelLayer, ResponseFuture};
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, Service as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut service = OtelLayer::new().layer(service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(axum::body::Body::from("hello")))
    /// }));
    /// let future: ResponseFuture<_> = service.call(http::Request::new(()));
    /// let response = future.await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        finisher: Option<Finisher>,
        catch_panics: bool,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(
        inner: WithContext<F>,
        finisher: Option<Finisher>,
        catch_panics: bool,
    ) -> Self {
        Self {
            inner,
            finisher,
            catch_panics,
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = Bytes>,
{
    type Output = Result<Response<OtelBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let polled = if *this.catch_panics {
            match std::panic::catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
                Ok(p) => p,
                Err(payload) => {
                    let mut finisher = this.finisher.take();
                    if let Some(f) = finisher.as_mut() {
                        f.status = Some(500);
                        let span = f.cx.span();
                        if span.is_recording() {
                            span.set_attribute(opentelemetry::KeyValue::new(
                                "http.response.status_code",
                                500,
                            ));
                        }
                        f.fail(
                            "panic".to_owned(),
                            Some(format!("handler panicked: {}", panic_message(&*payload))),
                        );
                    }
                    let mut response =
                        Response::new(OtelBody::full("Internal Server Error", finisher));
                    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                    );
                    return Poll::Ready(Ok(response));
                }
            }
        } else {
            this.inner.as_mut().poll(cx)
        };
        let result = ready!(polled);
        let mut finisher = this.finisher.take();
        match result {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                if let Some(f) = finisher.as_mut() {
                    respond(f, &mut parts);
                }
                Poll::Ready(Ok(Response::from_parts(
                    parts,
                    OtelBody::new(body, finisher),
                )))
            }
            Err(e) => {
                if let Some(mut f) = finisher {
                    f.fail("_OTHER".to_owned(), Some("the service failed".to_owned()));
                    f.finish();
                }
                Poll::Ready(Err(e))
            }
        }
    }
}

/// Records what the response says and adds the trace response header.
fn respond(f: &mut Finisher, parts: &mut http::response::Parts) {
    f.record_status(parts.status.as_u16());
    let config = f.config.clone();
    let span = f.cx.span();
    if span.is_recording() {
        if !config.response_headers.is_empty() {
            let mut attrs = Vec::new();
            crate::attributes::capture_headers(
                &mut attrs,
                "http.response.header.",
                &parts.headers,
                &config.response_headers,
            );
            span.set_attributes(attrs);
        }
        if let Some(hook) = &config.response_hook {
            span.set_attributes(hook(parts));
        }
    }
    if let Some(name) = &config.trace_response_header {
        let sc = span.span_context();
        if sc.is_valid() {
            let value = otel_http::propagation::format_traceparent(
                sc.trace_id(),
                sc.span_id(),
                sc.trace_flags(),
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                parts.headers.insert(name.clone(), v);
            }
        }
    }
}
