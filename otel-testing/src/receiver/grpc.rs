//! OTLP/gRPC: the generated tonic services for traces, metrics and logs,
//! dispatched by path on one port.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::codegen::Service;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::store::{Decision, ExportRequest, Failure, Store, Transport};

/// Largest request the receiver decodes (gRPC's default is only 4 MiB).
const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// The tonic service implementation behind all three OTLP gRPC services.
#[derive(Clone)]
pub(crate) struct Handler {
    store: Arc<Store>,
}

impl Handler {
    /// Counts the attempt and applies the configured behaviour; records
    /// `request` when it is accepted.
    async fn handle<T>(
        &self,
        request: Request<T>,
        wrap: fn(T) -> ExportRequest,
    ) -> Result<(), Status> {
        match self.store.begin() {
            Decision::Accept => {
                let headers = request.metadata().clone().into_headers();
                self.store
                    .record(Transport::Grpc, &headers, wrap(request.into_inner()));
                Ok(())
            }
            Decision::Fail(failure) => Err(failure_status(failure)),
            Decision::Blackhole => std::future::pending().await,
        }
    }
}

/// The gRPC status for an injected failure, with a `RetryInfo` detail when a
/// retry delay is configured.
fn failure_status(failure: Failure) -> Status {
    let message = format!(
        "otel-testing receiver: injected failure (HTTP {})",
        failure.http_status
    );
    match failure.retry_after {
        Some(secs) => Status::with_error_details(
            failure.grpc_code,
            message,
            ErrorDetails::with_retry_info(Some(Duration::from_secs(secs))),
        ),
        None => Status::new(failure.grpc_code, message),
    }
}

#[tonic::async_trait]
impl TraceService for Handler {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.handle(request, ExportRequest::Traces).await?;
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Handler {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.handle(request, ExportRequest::Metrics).await?;
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Handler {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.handle(request, ExportRequest::Logs).await?;
        Ok(Response::new(ExportLogsServiceResponse::default()))
    }
}

type GrpcResponse = http::Response<tonic::body::Body>;
type GrpcFuture = Pin<Box<dyn Future<Output = Result<GrpcResponse, Infallible>> + Send>>;

/// Routes a gRPC request to the trace, metrics or logs server by path.
#[derive(Clone)]
pub(crate) struct GrpcRouter {
    traces: TraceServiceServer<Handler>,
    metrics: MetricsServiceServer<Handler>,
    logs: LogsServiceServer<Handler>,
}

impl GrpcRouter {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        let handler = Arc::new(Handler { store });
        GrpcRouter {
            traces: TraceServiceServer::from_arc(Arc::clone(&handler))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_SIZE),
            metrics: MetricsServiceServer::from_arc(Arc::clone(&handler))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_SIZE),
            logs: LogsServiceServer::from_arc(handler)
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_SIZE),
        }
    }
}

/// Whether `path` is `/<service>/<method>` for the named service.
fn is_for<S: NamedService>(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(S::NAME))
        .is_some_and(|rest| rest.starts_with('/'))
}

impl Service<http::Request<Incoming>> for GrpcRouter {
    type Response = GrpcResponse;
    type Error = Infallible;
    type Future = GrpcFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // The generated servers are always ready.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Incoming>) -> Self::Future {
        let path = request.uri().path();
        if is_for::<TraceServiceServer<Handler>>(path) {
            Box::pin(self.traces.call(request))
        } else if is_for::<MetricsServiceServer<Handler>>(path) {
            Box::pin(self.metrics.call(request))
        } else if is_for::<LogsServiceServer<Handler>>(path) {
            Box::pin(self.logs.call(request))
        } else {
            let status = Status::unimplemented(format!("unknown gRPC path {path}"));
            Box::pin(std::future::ready(Ok(status.into_http())))
        }
    }
}
