//! [`OtelBody`]: the response body, counted, ending the span when it is done.

use crate::finish::Finisher;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
    }
}

pin_project! {
    /// The response body of an [`OtelService`](crate::OtelService): the inner
    /// body, whose end (or drop) ends the server span and records the metrics
    /// (`http.server.request.duration` includes sending the body, and
    /// `http.server.response.body.size` counts the bytes actually sent).
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use tower::ServiceExt as _;
    /// # use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Debug, Default, Clone)]
    /// # struct Recorder(Arc<Mutex<Vec<SpanData>>>);
    /// # impl SpanProcessor for Recorder {
    /// #     fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    /// #     fn on_end(&self, span: SpanData) { self.0.lock().unwrap().push(span) }
    /// #     fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// #     fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let recorder = Recorder::default();
    /// let provider = SdkTracerProvider::builder().with_span_processor(recorder.clone()).build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(otel_axum::OtelLayer::builder().tracer_provider(&provider).build());
    /// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// assert!(recorder.0.lock().unwrap().is_empty()); // headers are here, the body is not sent yet
    /// axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// assert_eq!(recorder.0.lock().unwrap().len(), 1); // the span ended with the body
    /// # }
    /// ```
    pub struct OtelBody<B> {
        #[pin]
        kind: Kind<B>,
        finisher: Option<Finisher>,
    }
}

impl<B> std::fmt::Debug for OtelBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelBody").finish_non_exhaustive()
    }
}

impl<B> OtelBody<B> {
    pub(crate) fn new(body: B, finisher: Option<Finisher>) -> Self {
        Self {
            kind: Kind::Inner { body },
            finisher,
        }
    }

    /// A fixed body (the 500 response of a caught panic).
    pub(crate) fn full(data: &'static str, finisher: Option<Finisher>) -> Self {
        Self {
            kind: Kind::Full {
                data: Some(Bytes::from_static(data.as_bytes())),
            },
            finisher,
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
        let this = self.project();
        let frame = match this.kind.project() {
            KindProj::Inner { body } => ready!(body.poll_frame(cx)),
            KindProj::Full { data } => data.take().map(|d| Ok(Frame::data(d))),
        };
        match (&frame, this.finisher.as_mut()) {
            (Some(Ok(f)), Some(fin)) => {
                if let Some(data) = f.data_ref() {
                    fin.response_bytes += data.len() as u64;
                }
            }
            (Some(Err(_)), Some(fin)) => {
                fin.fail(
                    "response_body".to_owned(),
                    Some("error while sending the response body".to_owned()),
                );
                fin.finish();
            }
            (None, Some(fin)) => fin.finish(),
            _ => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
