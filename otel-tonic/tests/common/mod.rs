//! The test bed of otel-tonic's tests: the `otel.test.Echo` service (its
//! behaviour chosen by the request message), a server and a client on
//! loopback, and in-memory span and metric exporters.
#![allow(dead_code)]

use futures_util::{Stream, StreamExt as _, stream};
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otel_http::propagation::{PropagatorName, Propagators, composite};
use otel_tonic::{OtelClientLayer, OtelClientService, OtelServerLayer};
pub use otel_tonic_test_proto::echo_client::EchoClient;
use otel_tonic_test_proto::echo_server::{Echo, EchoServer};
pub use otel_tonic_test_proto::{EchoReply, EchoRequest};
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status, Streaming};

pub const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const PARENT: &str = "00f067aa0ba902b7";
pub const TP_SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub const TP_UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
pub const UNARY: &str = "otel.test.Echo/Unary";

/// Spans and metrics of one test, in memory; parent-based always-on sampling.
pub struct Telemetry {
    pub spans: InMemorySpanExporter,
    pub tracer: SdkTracerProvider,
    pub metrics: InMemoryMetricExporter,
    pub meters: SdkMeterProvider,
}

impl Telemetry {
    pub fn new() -> Self {
        let otel_testing::InMemory {
            spans,
            tracer,
            metrics,
            meters,
        } = otel_testing::InMemory::new();
        Self {
            spans,
            tracer,
            metrics,
            meters,
        }
    }

    pub fn server_layer(&self) -> otel_tonic::OtelServerLayerBuilder {
        OtelServerLayer::builder()
            .tracer_provider(&self.tracer)
            .meter_provider(&self.meters)
            .propagator(w3c())
    }

    pub fn client_layer(&self) -> otel_tonic::OtelClientLayerBuilder {
        OtelClientLayer::builder()
            .tracer_provider(&self.tracer)
            .meter_provider(&self.meters)
            .propagator(w3c())
    }

    pub fn finished(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().unwrap_or_default()
    }

    /// The first finished span of this kind and name, waiting up to 5 s
    /// (a server span ends when the server has sent the stream's end, which
    /// can be just after the client has read it).
    pub async fn span(&self, kind: SpanKind, name: &str) -> SpanData {
        for _ in 0..500 {
            if let Some(s) = self
                .finished()
                .into_iter()
                .find(|s| s.span_kind == kind && s.name == name)
            {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "no {kind:?} span {name:?} in {:#?}",
            names(&self.finished())
        );
    }

    /// The sum of every data point of a duration histogram, in seconds, as
    /// of now.
    pub fn duration_sum(&self, metric: &str) -> f64 {
        self.meters.force_flush().expect("flush");
        otel_testing::histogram_sum(&self.metrics, metric)
    }

    /// [`durations`](Self::durations) once `calls` calls are counted in
    /// them, or as they are after two seconds: a call's span ends just
    /// before its duration is recorded, on the thread that ended it, so a
    /// test that has seen the span may flush before the duration is in.
    pub async fn durations_of(&self, metric: &str, calls: u64) -> Vec<(Vec<KeyValue>, u64)> {
        for _ in 0..200 {
            let points = self.durations(metric);
            if points.iter().map(|(_, count)| count).sum::<u64>() >= calls {
                return points;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.durations(metric)
    }

    /// The data points of a duration histogram: (attributes, count), as the
    /// last flush exported them (cumulative: each export holds them all).
    pub fn durations(&self, metric: &str) -> Vec<(Vec<KeyValue>, u64)> {
        self.meters.force_flush().expect("flush");
        let mut points = Vec::new();
        let exports = self.metrics.get_finished_metrics().expect("metrics");
        if let Some(rm) = exports.last() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics().filter(|m| m.name() == metric) {
                    assert_eq!(m.unit(), "s");
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                        for p in h.data_points() {
                            points.push((p.attributes().cloned().collect(), p.count()));
                        }
                    }
                }
            }
        }
        points
    }
}

pub fn names(spans: &[SpanData]) -> Vec<(SpanKind, String)> {
    spans
        .iter()
        .map(|s| (s.span_kind.clone(), s.name.to_string()))
        .collect()
}

pub fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

pub fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

pub fn kv(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// The attribute keys of a data point, sorted: a metric's attributes must
/// stay these few, whatever the peer or the call.
pub fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    let mut keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
    keys.sort_unstable();
    keys
}

/// The semantic conventions this crate follows: 1.45, whose RPC
/// conventions are stable (`rpc.status_code`, not 1.39 to 1.44's
/// `rpc.response.status_code`).
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.45.0";

pub fn w3c() -> Propagators {
    composite(&[PropagatorName::TraceContext, PropagatorName::Baggage])
}

fn current_trace_id() -> String {
    let cx = Context::current();
    let sc = cx.span().span_context().clone();
    if sc.is_valid() {
        sc.trace_id().to_string()
    } else {
        String::new()
    }
}

fn reply(message: impl Into<String>) -> EchoReply {
    EchoReply {
        message: message.into(),
        trace_id: current_trace_id(),
    }
}

/// What a request asks the handler to do.
async fn act(message: &str) -> Result<(), Status> {
    match message {
        "not_found" => Err(Status::not_found("no such order")),
        "internal" => Err(Status::internal("database down")),
        "unimplemented" => Err(Status::unimplemented("not in this version")),
        "panic" => panic!("the handler broke"),
        m => {
            if let Some(ms) = m.strip_prefix("sleep:").and_then(|ms| ms.parse().ok()) {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Ok(())
        }
    }
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

/// The response metadata of the "meta" requests: `x-served-by: <at>`, the
/// binary `x-blob-bin: [0, 255]`, and credentials (`set-cookie`,
/// `authorization`) that must never be captured.
pub fn response_metadata(at: &str) -> tonic::metadata::MetadataMap {
    let mut md = tonic::metadata::MetadataMap::new();
    md.insert("x-served-by", at.parse().expect("value"));
    md.insert_bin(
        "x-blob-bin",
        tonic::metadata::MetadataValue::from_bytes(&[0, 255]),
    );
    md.insert("set-cookie", "session=secret".parse().expect("value"));
    md.insert("authorization", "Bearer secret".parse().expect("value"));
    md
}

/// The `otel.test.Echo` service.
#[derive(Debug, Default, Clone)]
pub struct TestEcho;

#[tonic::async_trait]
impl Echo for TestEcho {
    /// "meta" answers with the response metadata of [`response_metadata`];
    /// "meta_error" fails with NOT_FOUND carrying it (a trailers-only
    /// response: the metadata is in the headers).
    async fn unary(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let message = request.into_inner().message;
        if message == "meta_error" {
            return Err(Status::with_metadata(
                tonic::Code::NotFound,
                "no such order",
                response_metadata("error"),
            ));
        }
        act(&message).await?;
        let meta = message == "meta";
        let mut response = Response::new(reply(message));
        if meta {
            *response.metadata_mut() = response_metadata("headers");
        }
        Ok(response)
    }

    type ServerStreamStream = ReplyStream;

    /// `count` replies, 20 ms apart when the message is "slow"; "fail"
    /// ends the stream with UNAVAILABLE after them; "stream_panic" panics
    /// in the stream after them; "meta_fail" ends it as "fail" does, with
    /// [`response_metadata`] in the headers ("headers") and in the trailers
    /// ("trailers").
    async fn server_stream(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        let EchoRequest { message, count } = request.into_inner();
        act(&message).await?;
        let slow = message == "slow";
        let meta = message == "meta_fail";
        let fail = message == "fail" || meta;
        let panics = message == "stream_panic";
        let items = stream::unfold(0u32, move |i| async move {
            if panics && i == count {
                // Later than the replies, which tonic sends first.
                tokio::time::sleep(Duration::from_millis(20)).await;
                panic!("the stream broke");
            }
            if i < count {
                if slow {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Some((Ok(reply(format!("{i}"))), i + 1))
            } else if fail && i == count {
                let status = if meta {
                    Status::with_metadata(
                        tonic::Code::Unavailable,
                        "the stream broke",
                        response_metadata("trailers"),
                    )
                } else {
                    Status::unavailable("the stream broke")
                };
                Some((Err(status), i + 1))
            } else {
                None
            }
        });
        let mut response = Response::new(Box::pin(items) as ReplyStream);
        if meta {
            *response.metadata_mut() = response_metadata("headers");
        }
        Ok(response)
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        let mut requests = request.into_inner();
        let mut n = 0;
        while let Some(r) = requests.next().await {
            act(&r?.message).await?;
            n += 1;
        }
        Ok(Response::new(reply(n.to_string())))
    }

    type BidiStream = ReplyStream;

    async fn bidi(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        let replies = request.into_inner().map(|r| {
            let r = r?;
            Ok(reply(r.message))
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

/// A tonic server of `TestEcho` on loopback; dropping it stops the server.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn listen() -> (
    SocketAddr,
    tokio_stream::wrappers::TcpListenerStream,
    oneshot::Sender<()>,
    impl Future<Output = ()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let (stop, stopped) = oneshot::channel::<()>();
    (addr, incoming, stop, async move {
        let _ = stopped.await;
    })
}

/// Serves `TestEcho` behind `layer`.
pub async fn serve(layer: OtelServerLayer) -> TestServer {
    let (addr, incoming, stop, shutdown) = listen().await;
    let router = Server::builder()
        .layer(layer)
        .add_service(EchoServer::new(TestEcho));
    tokio::spawn(router.serve_with_incoming_shutdown(incoming, shutdown));
    TestServer {
        addr,
        stop: Some(stop),
    }
}

/// Serves `TestEcho` with bare tonic.
pub async fn serve_bare() -> TestServer {
    let (addr, incoming, stop, shutdown) = listen().await;
    let router = Server::builder().add_service(EchoServer::new(TestEcho));
    tokio::spawn(router.serve_with_incoming_shutdown(incoming, shutdown));
    TestServer {
        addr,
        stop: Some(stop),
    }
}

pub fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}")).expect("endpoint")
}

/// A client of `addr` behind `layer`.
pub async fn client(
    addr: SocketAddr,
    layer: OtelClientLayer,
) -> EchoClient<OtelClientService<Channel>> {
    let channel = endpoint(addr).connect().await.expect("connect");
    EchoClient::new(tower::ServiceBuilder::new().layer(layer).service(channel))
}

/// A bare tonic client of `addr`.
pub async fn bare_client(addr: SocketAddr) -> EchoClient<Channel> {
    EchoClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

/// A bare client's server-streaming call of `count` replies, opened.
pub async fn open_stream(
    client: &mut EchoClient<Channel>,
    message: &str,
    count: u32,
) -> tonic::Streaming<EchoReply> {
    client
        .server_stream(replies(message, count))
        .await
        .expect("stream")
        .into_inner()
}

pub fn request(message: &str) -> EchoRequest {
    replies(message, 0)
}

/// A request for `count` replies of a streaming method.
pub fn replies(message: &str, count: u32) -> EchoRequest {
    EchoRequest {
        message: message.to_owned(),
        count,
    }
}
