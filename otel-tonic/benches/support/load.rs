//! How the unary bench's client loads the server: 32 callers in a loop until
//! a time or a number of calls, each call counted once the warm-up is over,
//! and the `traceparent` the floor case sends with each.

use opentelemetry::context::FutureExt as _;
use otel_tonic_test_proto::EchoRequest;
use otel_tonic_test_proto::echo_client::EchoClient;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// When the callers stop: at a time, or after a number of calls.
#[derive(Clone)]
pub enum Until {
    Deadline(Instant),
    Calls(Arc<AtomicU64>),
}

impl Until {
    /// Whether another call may start (and, for a count, takes it).
    pub fn another(&self) -> bool {
        match self {
            Until::Deadline(deadline) => Instant::now() < *deadline,
            Until::Calls(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// 32 callers until `until`, counting calls while `counting` is set.
pub async fn load<T>(
    client: EchoClient<T>,
    until: Until,
    counting: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    parent: Option<opentelemetry::Context>,
) where
    T: tonic::client::GrpcService<tonic::body::Body> + Clone + Send + 'static,
    T::ResponseBody: tonic::transport::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::transport::Body>::Error: Into<tonic::codegen::StdError> + Send,
    T::Error: Into<tonic::codegen::StdError>,
    T::Future: Send,
{
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (mut client, counting, done) = (client.clone(), counting.clone(), done.clone());
        let until = until.clone();
        let caller = async move {
            while until.another() {
                let request = EchoRequest {
                    message: "hello".into(),
                    count: 0,
                };
                if client.unary(request).await.is_ok() && counting.load(Ordering::Relaxed) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        };
        // The calls of a trace that is not sampled, when given one.
        tasks.push(match parent.clone() {
            Some(cx) => tokio::spawn(caller.with_context(cx)),
            None => tokio::spawn(caller),
        });
    }
    for t in tasks {
        t.await.ok();
    }
}

pub struct Outcome {
    pub calls: u64,
    pub seconds: f64,
    pub server_cpu_ns: u64,
    pub client_cpu_ns: u64,
}

/// The warm-up before each timed case: `LOAD_WARMUP` seconds, 1 by default.
pub fn warm_up() -> Duration {
    std::env::var("LOAD_WARMUP")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_secs(1), Duration::from_secs_f64)
}

/// A fresh `traceparent` on the request, never-indexed, as otel-http's
/// injector writes it: random ids from a counter (no tracer involved).
pub fn with_traceparent<B>(mut request: http::Request<B>) -> http::Request<B> {
    static CALLS: AtomicU64 = AtomicU64::new(1);
    let n = CALLS
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let value = otel_http::propagation::format_traceparent(
        opentelemetry::trace::TraceId::from(u128::from(n) << 64 | u128::from(!n)),
        opentelemetry::trace::SpanId::from(n | 1),
        opentelemetry::trace::TraceFlags::new(0x02),
    );
    if let Ok(mut value) = http::HeaderValue::try_from(value) {
        value.set_sensitive(true);
        request.headers_mut().insert("traceparent", value);
    }
    request
}
