//! The layers alone, for callgrind: `OtelServerLayer` and `OtelClientLayer`
//! around a stub service that answers at once (a unary response: one data
//! frame, then the `grpc-status: 0` trailers), driven call after call on one
//! thread with no I/O, so that the instructions per call are the layer's own
//! (span, context, status, metric) and do not move between runs.
//!
//! `LAYER_CASE=<case> LAYER_CALLS=N` runs N calls of one case and exits:
//! `bare` and `bare-client` (the stub alone, with and without the
//! server's `traceparent`), `server-sampled`, `server-unsampled`,
//! `client-sampled`, `client-unsampled` (AlwaysOn / AlwaysOff samplers of a
//! provider given to the layer), and `server-parent-unsampled`,
//! `server-declared`, `client-parent-unsampled`, `client-declared`: the
//! layer on the global provider with otel-init's default sampler
//! (parent-based, always on), an unsampled parent (the caller's
//! `traceparent`, or the context the client call is made in), and for
//! `-declared` the declaration otel-init makes for that sampler
//! (`otel_http::sampling::declare(UnsampledParentsDropped)` and
//! `declare_dropped_spans(DroppedSpans::Plain)`); `server-root` and
//! `client-root`: the global provider with `always_off` and the
//! declarations otel-init makes for it (`AllDropped`, `Plain`), and no
//! caller's context at all (a request without `traceparent`, a client call
//! outside any trace), both measured against `bare-client`;
//! `server-minimal` and `client-minimal`: the API minimum of the unary
//! bench (`support/minimal.rs`: extract or inject with the SDK's
//! `TraceContextPropagator`, one span from the global tracer, nothing else)
//! on the provider and with the unsampled parent of the `-declared` cases,
//! for comparison with them. The server's
//! requests carry the metadata a tonic client sends (with a `traceparent`
//! whose sampled flag matches the case); spans go to a processor that drops
//! them, metrics to an SDK meter provider with a reader, the propagator is
//! otel-init's default.
//! `sh otel-tonic/benches/instructions.sh layer-server-sampled ...` counts
//! them against `bare`. `LAYER_RANDOM=1` sets the random flag in the
//! caller's `traceparent` as well, as otel-tonic's own client does.
//!
//! Each run also prints its wall-clock time per call (one thread, no I/O):
//! `sh otel-tonic/benches/layer_time.sh` compares the cases with `bare` in
//! alternating runs. `LAYER_EVICT=<bytes>` reads a buffer of that size
//! after each call, so that each call finds the caches as a real process's
//! other work leaves them (the layer's cold-cache cost). `LAYER_THREADS=N`
//! runs the case on N threads at once, each with its own service from the
//! same layer (the same providers and global propagator), as the workers of
//! a multi-threaded runtime share them; each thread prints its own time.

#[path = "support/minimal.rs"]
mod minimal;
#[path = "support/providers.rs"]
mod providers;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt as _;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry_sdk::trace::Sampler;
use otel_http::sampling::{DroppedSpans, KnownDecisions, declare, declare_dropped_spans};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::Poll;
use tower::{Layer as _, Service, ServiceExt as _};

/// A unary response body: one message, then the OK trailers.
struct Unary(u8);

impl Body for Unary {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0 += 1;
        Poll::Ready(match self.0 {
            1 => Some(Ok(Frame::data(Bytes::from_static(
                b"\0\0\0\0\x07\n\x05hello",
            )))),
            2 => {
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", HeaderValue::from_static("0"));
                Some(Ok(Frame::trailers(trailers)))
            }
            _ => None,
        })
    }
}

async fn stub(_req: Request<()>) -> Result<Response<Unary>, Infallible> {
    let mut response = Response::new(Unary(0));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    Ok(response)
}

/// What a tonic client sends (tonic's channel adds the authority's scheme
/// and host later, so the layer sees a path-only URI).
fn request(traceparent: Option<&'static str>) -> Request<()> {
    let mut builder = Request::post("/otel.test.Echo/Unary")
        .header("te", "trailers")
        .header("content-type", "application/grpc")
        .header("user-agent", "tonic/0.14.9");
    if let Some(tp) = traceparent {
        builder = builder.header("traceparent", tp);
    }
    builder.body(()).expect("request")
}

/// Reads every cache line of `buffer` (`LAYER_EVICT` bytes), after each call:
/// what the rest of a real process (hyper, h2, tokio, the handler) does to
/// the caches between two calls. Past a core's second-level cache (which
/// holds code and data) little of the layer's code or data is left in the
/// core's caches when the next call comes: the cold-cache cost a tight loop
/// hides.
fn evict(buffer: &[u8]) {
    let mut sum = 0u8;
    for line in buffer.chunks(64) {
        sum = sum.wrapping_add(line[0]);
    }
    std::hint::black_box(sum);
}

async fn drive<S>(svc: &mut S, traceparent: Option<&'static str>)
where
    S: Service<Request<()>>,
    S::Response: IntoBody,
    S::Error: std::fmt::Debug,
{
    let response = svc
        .ready()
        .await
        .expect("ready")
        .call(request(traceparent))
        .await
        .expect("response");
    response.drain().await;
    EVICT.with(|buffer| evict(buffer));
}

thread_local! {
    static EVICT: Vec<u8> = vec![
        1;
        std::env::var("LAYER_EVICT").ok().and_then(|v| v.parse().ok()).unwrap_or(0)
    ];
}

trait IntoBody {
    async fn drain(self);
}

impl<B: Body<Data = Bytes> + Unpin> IntoBody for Response<B>
where
    B::Error: std::fmt::Debug,
{
    async fn drain(self) {
        let mut body = self.into_body();
        while let Some(frame) = body.frame().await {
            std::hint::black_box(frame.expect("frame"));
        }
    }
}

/// The context of an unsampled server call, which the client's calls are
/// made in.
fn unsampled_parent() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(7u128),
        SpanId::from(9u64),
        TraceFlags::default(),
        true,
        TraceState::NONE,
    ))
}

fn main() {
    let Ok(case) = std::env::var("LAYER_CASE") else {
        println!(
            "layer_cost: run with LAYER_CASE=<case> LAYER_CALLS=N (see benches/instructions.sh)"
        );
        return;
    };
    let calls: u64 = std::env::var("LAYER_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    opentelemetry::global::set_text_map_propagator(otel_http::propagation::composite(&[
        otel_http::propagation::PropagatorName::TraceContext,
        otel_http::propagation::PropagatorName::Baggage,
    ]));
    let sampled = case.ends_with("-sampled") && !case.ends_with("-unsampled");
    let root = case.ends_with("-root");
    let minimal = case.ends_with("-minimal");
    let global_provider =
        case.ends_with("-parent-unsampled") || case.ends_with("-declared") || root || minimal;
    let tracer = providers::tracer_provider(if root {
        Sampler::AlwaysOff
    } else if global_provider {
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
    } else if sampled {
        Sampler::AlwaysOn
    } else {
        Sampler::AlwaysOff
    });
    if global_provider {
        opentelemetry::global::set_tracer_provider(tracer.clone());
    }
    if root {
        declare(KnownDecisions::AllDropped);
        declare_dropped_spans(DroppedSpans::Plain);
    } else if case.ends_with("-declared") {
        declare(KnownDecisions::UnsampledParentsDropped);
        declare_dropped_spans(DroppedSpans::Plain);
    }
    let meters = providers::meter_provider();
    // With LAYER_RANDOM=1 the caller sets the random flag too, as
    // otel-tonic's (and otel-reqwest's) client does for a trace with random
    // ids (W3C Trace Context Level 2).
    let random = std::env::var("LAYER_RANDOM").is_ok_and(|v| v == "1");
    let traceparent = match (sampled, random) {
        (true, false) => "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        (false, false) => "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        (true, true) => "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
        (false, true) => "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02",
    };
    let threads: usize = std::env::var("LAYER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // Built once: each thread's service shares the layer's state, as the
    // connections of a tonic server (and the workers serving them) do.
    let server_layer = {
        let mut builder = otel_tonic::OtelServerLayer::builder().meter_provider(&meters);
        if !global_provider {
            builder = builder.tracer_provider(&tracer);
        }
        builder.build()
    };
    let endpoint = http::Uri::from_static("http://127.0.0.1:50051");
    let client_layer = {
        let mut builder = otel_tonic::OtelClientLayer::builder()
            .meter_provider(&meters)
            .target(&endpoint);
        if !global_provider {
            builder = builder.tracer_provider(&tracer);
        }
        builder.build()
    };
    let run = || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("rt");
        let started = std::time::Instant::now();
        rt.block_on(async {
            match case.as_str() {
                "bare" | "bare-client" => {
                    // The server's request carries a traceparent, the client's not yet.
                    let tp = (case == "bare").then_some(traceparent);
                    let mut svc = tower::service_fn(stub);
                    for _ in 0..calls {
                        drive(&mut svc, tp).await;
                    }
                }
                "server-sampled"
                | "server-unsampled"
                | "server-parent-unsampled"
                | "server-declared"
                | "server-root" => {
                    let mut svc = server_layer.layer(tower::service_fn(stub));
                    for _ in 0..calls {
                        drive(&mut svc, (!root).then_some(traceparent)).await;
                    }
                }
                "server-minimal" => {
                    let mut svc = minimal::MinimalLayer::server().layer(tower::service_fn(stub));
                    for _ in 0..calls {
                        drive(&mut svc, Some(traceparent)).await;
                    }
                }
                "client-sampled"
                | "client-unsampled"
                | "client-parent-unsampled"
                | "client-declared"
                | "client-root" => {
                    let mut svc = client_layer.layer(tower::service_fn(stub));
                    if global_provider && !root {
                        let parent = unsampled_parent();
                        for _ in 0..calls {
                            drive(&mut svc, None).with_context(parent.clone()).await;
                        }
                    } else {
                        for _ in 0..calls {
                            drive(&mut svc, None).await;
                        }
                    }
                }
                "client-minimal" => {
                    let mut svc = minimal::MinimalLayer::client().layer(tower::service_fn(stub));
                    let parent = unsampled_parent();
                    for _ in 0..calls {
                        drive(&mut svc, None).with_context(parent.clone()).await;
                    }
                }
                other => {
                    eprintln!("unknown LAYER_CASE {other:?}");
                    std::process::exit(2);
                }
            }
        });
        let elapsed = started.elapsed();
        println!(
            "RESULT {calls} calls, {:.1} ns per call",
            elapsed.as_nanos() as f64 / calls as f64
        );
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(run);
        }
    });
}
