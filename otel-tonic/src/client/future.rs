//! [`ResponseFuture`] of the client: the response headers (a trailers-only
//! status, or an HTTP error), or the transport's failure.

use crate::OtelBody;
use crate::body::Polling;
use crate::call::Call;
use crate::code::Code;
use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// The future of an [`OtelClientService`](crate::OtelClientService) call.
    /// Dropped before the response (the caller gave up), it ends the span
    /// with `CANCELLED`, or `DEADLINE_EXCEEDED` once the deadline passed.
    ///
    /// ```
    /// use otel_tonic::{OtelClientLayer, client::ResponseFuture};
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, Service as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut svc = OtelClientLayer::new().layer(service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// }));
    /// let future: ResponseFuture<_> = svc.call(http::Request::post("/a.B/C").body(()).unwrap());
    /// assert_eq!(future.await.unwrap().status(), 200);
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        call: Option<Box<Call>>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, call: Box<Call>) -> Self {
        Self {
            inner,
            call: Some(call),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = Bytes>,
{
    type Output = Result<Response<OtelBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        match result {
            Ok(response) => {
                if let Some(call) = call.as_mut() {
                    call.headers(response.status(), response.headers());
                }
                let (parts, body) = response.into_parts();
                Poll::Ready(Ok(Response::from_parts(
                    parts,
                    OtelBody::new(body, call, Polling::Plain),
                )))
            }
            Err(e) => {
                if let Some(mut call) = call {
                    // tonic's channel enforces the deadline itself (an error
                    // once it passed); a failed connection is UNAVAILABLE.
                    if call.deadline_passed() {
                        call.fail(
                            Code::DEADLINE_EXCEEDED,
                            Code::DEADLINE_EXCEEDED.name(),
                            "the deadline passed before a response arrived".to_owned(),
                        );
                    } else {
                        call.fail(
                            Code::UNAVAILABLE,
                            "transport",
                            "the transport failed before a response arrived".to_owned(),
                        );
                    }
                    call.finish();
                }
                Poll::Ready(Err(e))
            }
        }
    }
}
