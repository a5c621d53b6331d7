//! [`ResponseFuture`] of the server: records the response headers (a
//! trailers-only status), catches panics, wraps the response stream.

use crate::OtelBody;
use crate::body::Polling;
use crate::call::Call;
use crate::code::Code;
use crate::panic;
use bytes::Bytes;
use http::{HeaderValue, Response};
use pin_project_lite::pin_project;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// The future of an [`OtelServerService`](crate::OtelServerService) call:
    /// runs the inner future with the SERVER span's context attached, reads
    /// a trailers-only status from the response headers, and answers a
    /// panicking handler with `UNKNOWN` (unless `catch_panics(false)`).
    ///
    /// ```
    /// use otel_tonic::{OtelServerLayer, server::ResponseFuture};
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, Service as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut svc = OtelServerLayer::new().layer(service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// }));
    /// let future: ResponseFuture<_> = svc.call(http::Request::post("/a.B/C").body(()).unwrap());
    /// assert_eq!(future.await.unwrap().status(), 200);
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // The context to poll `inner` in when there is no call (a skipped
        // method's: the one current when it was called); a call's is its own.
        cx: Option<opentelemetry::Context>,
        call: Option<Box<Call>>,
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
        inner: F,
        cx: Option<opentelemetry::Context>,
        call: Option<Box<Call>>,
        catch_panics: bool,
    ) -> Self {
        Self {
            inner,
            cx,
            call,
            catch_panics,
        }
    }
}

/// The trailers-only response of a panicking handler (see [`panic`]).
fn panic_response<B>(call: Option<Box<Call>>) -> Response<OtelBody<B>> {
    let mut response = Response::new(OtelBody::empty(call));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    panic::status(headers);
    response
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = Bytes>,
{
    type Output = Result<Response<OtelBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _attached = match (this.call.as_ref(), this.cx.as_ref()) {
            (Some(call), _) => Some(call.cx.clone().attach()),
            (None, Some(cx)) => Some(cx.clone().attach()),
            (None, None) => None,
        };
        // A panic is recorded either way; only a caught one is answered.
        let polled =
            match std::panic::catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
                Ok(polled) => polled,
                Err(payload) => {
                    let mut call = this.call.take();
                    if let Some(call) = call.as_mut() {
                        panic::record(call, &*payload);
                    }
                    if !*this.catch_panics {
                        if let Some(call) = call.as_mut() {
                            call.finish();
                        }
                        std::panic::resume_unwind(payload);
                    }
                    return Poll::Ready(Ok(panic_response(call)));
                }
            };
        let result = ready!(polled);
        let mut call = this.call.take();
        match result {
            Ok(response) => {
                if let Some(call) = call.as_mut() {
                    call.headers(response.status(), response.headers());
                }
                let (parts, body) = response.into_parts();
                Poll::Ready(Ok(Response::from_parts(
                    parts,
                    OtelBody::new(
                        body,
                        call,
                        Polling::Server {
                            catch_panics: *this.catch_panics,
                        },
                    ),
                )))
            }
            Err(e) => {
                if let Some(mut call) = call {
                    call.fail(Code::UNKNOWN, "_OTHER", "the service failed".to_owned());
                    call.finish();
                }
                Poll::Ready(Err(e))
            }
        }
    }
}
