//! [`OtelBody`]: a response stream that reads the final `grpc-status` from
//! its trailers and ends the call's span when the stream ends, fails,
//! panics or is dropped.

use crate::call::Call;
use crate::code::Code;
use crate::panic;
use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// How an [`OtelBody`] polls its inner body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polling {
    /// As it is: a client's response, which runs no handler, or an empty
    /// body.
    Plain,
    /// With the call's context attached, a panic recorded on the call and,
    /// when `catch_panics`, answered with `UNKNOWN` trailers (a server's
    /// response stream, which a streaming handler's code produces).
    Server { catch_panics: bool },
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Empty,
    }
}

pin_project! {
    /// The response body of [`OtelServerService`](crate::OtelServerService)
    /// and [`OtelClientService`](crate::OtelClientService): the inner body,
    /// whose trailers give the call's status and whose end (or drop) ends
    /// the span and records the duration. On a server, the inner body is
    /// polled with the span's context attached, so that the spans of a
    /// streaming handler's stream nest under it, and a stream that panics
    /// is recorded as the handler's panic (and, unless the layer was built
    /// with `catch_panics(false)`, ended with `UNKNOWN` trailers after the
    /// messages already sent).
    ///
    /// ```
    /// use otel_tonic::{OtelBody, OtelServerLayer};
    /// use std::convert::Infallible;
    /// use tower::{Layer as _, ServiceExt as _, service_fn};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let svc = OtelServerLayer::new().layer(service_fn(|_req: http::Request<()>| async {
    ///     let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
    ///     response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("0"));
    ///     Ok::<_, Infallible>(response)
    /// }));
    /// let response: http::Response<OtelBody<_>> =
    ///     svc.oneshot(http::Request::post("/shop.Payment/Charge").body(()).unwrap()).await.unwrap();
    /// assert_eq!(response.headers()["grpc-status"], "0");
    /// # }
    /// ```
    pub struct OtelBody<B> {
        #[pin]
        kind: Kind<B>,
        call: Option<Box<Call>>,
        polling: Polling,
    }
}

impl<B> std::fmt::Debug for OtelBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelBody").finish_non_exhaustive()
    }
}

impl<B> OtelBody<B> {
    pub(crate) fn new(body: B, call: Option<Box<Call>>, polling: Polling) -> Self {
        Self {
            kind: Kind::Inner { body },
            call,
            polling,
        }
    }

    /// An empty body (the trailers-only response of a caught panic).
    pub(crate) fn empty(call: Option<Box<Call>>) -> Self {
        Self {
            kind: Kind::Empty,
            call,
            polling: Polling::Plain,
        }
    }
}

impl<B> Body for OtelBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        // Attached until the call has ended: its duration is then recorded
        // with its span current (exemplars) without attaching it again.
        let _attached = match (this.call.as_ref(), *this.polling) {
            (Some(call), Polling::Server { .. }) => Some(call.cx.clone().attach()),
            _ => None,
        };
        let polled = match (this.kind.as_mut().project(), *this.polling) {
            (KindProj::Inner { body }, Polling::Server { catch_panics }) => {
                match std::panic::catch_unwind(AssertUnwindSafe(|| body.poll_frame(cx))) {
                    Ok(polled) => polled,
                    Err(payload) => {
                        if let Some(mut call) = this.call.take() {
                            panic::record(&mut call, &*payload);
                            call.finish();
                        }
                        // The stream is broken: it is never polled again, and
                        // dropped here, where a panic of its drop (it is left
                        // as the first panic found it) is the same failure.
                        let mut kind = this.kind.as_mut();
                        let _ =
                            std::panic::catch_unwind(AssertUnwindSafe(|| kind.set(Kind::Empty)));
                        if !catch_panics {
                            std::panic::resume_unwind(payload);
                        }
                        let mut trailers = HeaderMap::new();
                        panic::status(&mut trailers);
                        return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                    }
                }
            }
            (KindProj::Inner { body }, Polling::Plain) => body.poll_frame(cx),
            (KindProj::Empty, _) => Poll::Ready(None),
        };
        let frame = ready!(polled);
        let mut ended = matches!(frame, None | Some(Err(_)));
        if let Some(call) = this.call.as_mut() {
            match &frame {
                Some(Ok(f)) => {
                    // Trailers end a gRPC stream: nothing can follow them,
                    // and tonic's client stops reading there.
                    if let Some(trailers) = f.trailers_ref() {
                        call.trailers(trailers);
                        call.end();
                        ended = true;
                    }
                }
                Some(Err(_)) => {
                    call.fail(
                        Code::UNKNOWN,
                        "response_stream",
                        "the response stream failed".to_owned(),
                    );
                    call.finish();
                }
                None => call.end(),
            }
        }
        if ended {
            *this.call = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Empty => SizeHint::with_exact(0),
        }
    }
}
