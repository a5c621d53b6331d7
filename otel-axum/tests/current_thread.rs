//! Handlers' `#[instrument]` spans and events nest under the server span on a
//! current-thread runtime too (the server test uses a multi-thread one).

use axum::Router;
use axum::routing::get;
use http_body_util::BodyExt;
use otel_axum::OtelLayer;
use otel_testing::OtlpReceiver;
use tracing_subscriber::layer::SubscriberExt;

#[tracing::instrument]
async fn work() -> &'static str {
    tracing::info!("working");
    tokio::task::yield_now().await;
    "done"
}

#[test]
fn nesting_on_a_current_thread_runtime() {
    let receiver_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let receiver = receiver_rt
        .block_on(OtlpReceiver::start())
        .expect("receiver");
    let endpoint = receiver.http_endpoint();
    let guard = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .build()
    .expect("init");
    let filter = tracing_subscriber::EnvFilter::new("info,h2=off,hyper=off,tonic=off,tower=off");
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(filter)
            .with(guard.layer()),
    )
    .expect("subscriber");
    let layer = OtelLayer::builder()
        .tracer_provider(guard.tracer_provider().expect("tracer"))
        .meter_provider(&opentelemetry::metrics::noop::NoopMeterProvider::new())
        .build();
    let app = Router::new().route("/work", get(work)).layer(layer);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<String>();
        let req = http::Request::get(format!("http://{addr}/work"))
            .body(String::new())
            .expect("req");
        let res = client.request(req).await.expect("res");
        let body = res.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], b"done");
    });
    assert!(guard.shutdown().is_clean());
    let spans = receiver.spans();
    let server = spans
        .iter()
        .find(|s| s.name == "GET /work")
        .expect("server span");
    let work = spans.iter().find(|s| s.name == "work").expect("work span");
    assert_eq!(work.parent_span_id, server.span_id);
    assert_eq!(work.trace_id, server.trace_id);
}
