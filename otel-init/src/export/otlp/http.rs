//! OTLP/HTTP with protobuf or JSON bodies over hyper, and rustls with the
//! `tls` feature.

use super::encode::{self, Encoded};
use super::retry::{AttemptError, http_status_is_transient, parse_retry_after, unreachable};
use super::{OtlpRequest, TlsFiles, USER_AGENT, report_partial_success};
use crate::config::{OtlpConfig, Protocol, Signal};
use crate::error::InitError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::Message;

/// `https://` and `http://` with the `tls` feature, `http://` only without.
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

/// Responses larger than this are not read (a status body is tiny).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) struct HttpTransport {
    client: Client<Connector, Full<Bytes>>,
    uri: http::Uri,
    headers: http::HeaderMap,
    json: bool,
    gzip: bool,
}

impl HttpTransport {
    pub(crate) fn new(
        signal: Signal,
        config: &OtlpConfig,
        files: &TlsFiles,
    ) -> Result<Self, InitError> {
        let err = |reason: String| InitError::Exporter {
            signal: signal.as_str(),
            endpoint: config.endpoint.clone(),
            reason,
        };
        let uri: http::Uri = config
            .endpoint
            .parse()
            .map_err(|e: http::uri::InvalidUri| err(e.to_string()))?;
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.timeout.min(std::time::Duration::from_secs(10))));
        #[cfg(feature = "tls")]
        let connector = {
            http.enforce_http(false);
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(super::tls::rustls_config(config, files)?)
                .https_or_http()
                .enable_http1()
                .enable_http2()
                .wrap_connector(http)
        };
        #[cfg(not(feature = "tls"))]
        let connector = {
            let TlsFiles = files;
            http
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .build(connector);
        let mut headers = http::HeaderMap::new();
        for (k, v) in &config.headers {
            let name =
                http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| err(e.to_string()))?;
            let value = http::HeaderValue::from_str(v).map_err(|e| err(e.to_string()))?;
            headers.append(name, value);
        }
        Ok(Self {
            client,
            uri,
            headers,
            json: config.protocol == Protocol::HttpJson,
            gzip: super::support::gzip(config),
        })
    }

    /// The body in this transport's encoding, gzipped when configured.
    pub(crate) fn encode(&self, request: &OtlpRequest) -> Result<Encoded, AttemptError> {
        #[cfg(feature = "http-json")]
        let encoded = if self.json {
            encode::json(request)?
        } else {
            encode::protobuf(request)
        };
        #[cfg(not(feature = "http-json"))]
        let encoded = encode::protobuf(request);
        #[cfg(feature = "gzip")]
        if self.gzip {
            use std::io::Write;
            let mut encoded = encoded;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&encoded.body)
                .and_then(|_| enc.finish())
                .map(|b| encoded.body = Bytes::from(b))
                .map_err(|e| AttemptError::Permanent(format!("cannot gzip: {e}")))?;
            return Ok(encoded);
        }
        Ok(encoded)
    }

    pub(crate) async fn send(&self, encoded: Encoded) -> Result<(), AttemptError> {
        let signal = encoded.signal;
        let mut builder = http::Request::post(self.uri.clone())
            .header(
                http::header::CONTENT_TYPE,
                if self.json {
                    "application/json"
                } else {
                    "application/x-protobuf"
                },
            )
            .header(http::header::USER_AGENT, USER_AGENT);
        if self.gzip {
            builder = builder.header(http::header::CONTENT_ENCODING, "gzip");
        }
        let mut req = builder
            .body(Full::new(encoded.body))
            .map_err(|e| AttemptError::Permanent(format!("cannot build request: {e}")))?;
        for (k, v) in &self.headers {
            req.headers_mut().append(k, v.clone());
        }
        let response = self.client.request(req).await.map_err(|e| {
            unreachable(
                format!("cannot reach the collector: {}", error_chain(&e)),
                &e,
            )
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_limited(response.into_body()).await;
        if status.is_success() {
            self.check_partial_success(signal, &body);
            return Ok(());
        }
        let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        let reason = format!("HTTP {}: {}", status.as_u16(), snippet.trim());
        if http_status_is_transient(status.as_u16()) {
            Err(AttemptError::Transient {
                reason,
                retry_after,
            })
        } else {
            Err(AttemptError::Permanent(reason))
        }
    }

    fn check_partial_success(&self, signal: Signal, body: &[u8]) {
        use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
        if body.is_empty() {
            return;
        }
        let partial = match (signal, self.json) {
            (Signal::Traces, false) => trace::v1::ExportTraceServiceResponse::decode(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| (p.rejected_spans, p.error_message)),
            #[cfg(feature = "http-json")]
            (Signal::Traces, true) => {
                serde_json::from_slice::<trace::v1::ExportTraceServiceResponse>(body)
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map(|p| (p.rejected_spans, p.error_message))
            }
            (Signal::Metrics, false) => metrics::v1::ExportMetricsServiceResponse::decode(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| (p.rejected_data_points, p.error_message)),
            #[cfg(feature = "http-json")]
            (Signal::Metrics, true) => {
                serde_json::from_slice::<metrics::v1::ExportMetricsServiceResponse>(body)
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map(|p| (p.rejected_data_points, p.error_message))
            }
            (Signal::Logs, false) => logs::v1::ExportLogsServiceResponse::decode(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| (p.rejected_log_records, p.error_message)),
            #[cfg(feature = "http-json")]
            (Signal::Logs, true) => {
                serde_json::from_slice::<logs::v1::ExportLogsServiceResponse>(body)
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map(|p| (p.rejected_log_records, p.error_message))
            }
            // Never built: a JSON exporter needs the `http-json` feature.
            #[cfg(not(feature = "http-json"))]
            (_, true) => None,
        };
        if let Some((rejected, message)) = partial {
            report_partial_success(signal, rejected, &message);
        }
    }
}

async fn read_limited(mut body: hyper::body::Incoming) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            let room = MAX_RESPONSE_BYTES.saturating_sub(out.len());
            out.extend_from_slice(&data[..data.len().min(room)]);
            if out.len() >= MAX_RESPONSE_BYTES {
                break;
            }
        }
    }
    out
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
