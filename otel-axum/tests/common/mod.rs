//! Serving an app with the layer on loopback and sending raw HTTP/1.1
//! requests to it (nothing re-encodes or adds headers), with the finished
//! spans in memory.
#![allow(dead_code)]

use axum::Router;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otel_axum::{OtelLayer, OtelLayerBuilder};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Whether the app is served with `into_make_service_with_connect_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    ConnectInfo,
    Unknown,
}

/// Serves `app` with the layer from `builder`, sends `GET {target}` with
/// the extra header lines of each request in turn, one connection each, and
/// returns each request's server span attributes.
pub async fn served_spans(
    app: Router,
    builder: impl FnOnce(OtelLayerBuilder) -> OtelLayerBuilder,
    peer: Peer,
    requests: &[(&str, &[(&str, &str)])],
) -> Vec<Vec<KeyValue>> {
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let app = app.layer(builder(OtelLayer::builder().tracer_provider(&provider)).build());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        match peer {
            Peer::ConnectInfo => {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
            }
            Peer::Unknown => axum::serve(listener, app).await,
        }
    });
    let mut recorded = Vec::new();
    for (i, (target, headers)) in requests.iter().enumerate() {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (name, value) in *headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read");
        assert!(response.starts_with("HTTP/1.1 200"), "{target}: {response}");
        // The span ends once the body has been sent.
        for _ in 0..400 {
            if spans.get_finished_spans().expect("spans").len() > i {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let finished = spans.get_finished_spans().expect("spans");
        recorded.push(
            finished
                .get(i)
                .expect("one span per request")
                .attributes
                .clone(),
        );
    }
    server.abort();
    recorded
}

/// The value of `key` in `attributes`, as a string.
pub fn value(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}
