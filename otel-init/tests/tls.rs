//! OTLP over TLS with a custom CA (`OTEL_EXPORTER_OTLP_CERTIFICATE`) and
//! mutual TLS (`..._CLIENT_KEY` + `..._CLIENT_CERTIFICATE`), over HTTP and
//! gRPC. A test PKI is generated per run; a TLS-terminating proxy on loopback
//! forwards the decrypted stream to the in-process receiver.

mod common;

use common::{Harness, fast_retry};
use otel_init::Telemetry;
use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::rustls;

struct Pki {
    dir: PathBuf,
    ca: String,
    server_cert: String,
    server_key: String,
}

impl Pki {
    fn generate() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "otel-init test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca =
            CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");

        let server_key = KeyPair::generate().expect("key");
        let server = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .signed_by(&server_key, &ca)
            .expect("server cert");

        let client_key = KeyPair::generate().expect("key");
        let mut client_params = CertificateParams::new(vec!["client".to_owned()]).expect("params");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params
            .signed_by(&client_key, &ca)
            .expect("client cert");

        let dir = std::env::temp_dir().join(format!(
            "otel-init-tls-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write");
        std::fs::write(dir.join("client.pem"), client.pem()).expect("write");
        std::fs::write(dir.join("client.key"), client_key.serialize_pem()).expect("write");
        Self {
            dir,
            ca: ca.pem(),
            server_cert: server.pem(),
            server_key: server_key.serialize_pem(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs =
            vec![CertificateDer::from_pem_slice(self.server_cert.as_bytes()).expect("cert")];
        let key = PrivateKeyDer::from_pem_slice(self.server_key.as_bytes()).expect("key");
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_slice(self.ca.as_bytes()).expect("ca"))
                .expect("add ca");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder.with_single_cert(certs, key).expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// Terminates TLS on a loopback port and forwards the plain stream to `backend`.
fn tls_proxy(h: &Harness, config: Arc<rustls::ServerConfig>, backend: SocketAddr) -> u16 {
    h.rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(tcp).await
                        && let Ok(mut upstream) = tokio::net::TcpStream::connect(backend).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                    }
                });
            }
        });
        port
    })
}

/// Exports one span over TLS; returns (exported, failed) span counts.
fn export_one(protocol: &str, port: u16, tls_vars: &[(&str, String)]) -> (u64, u64) {
    let endpoint = format!("https://localhost:{port}");
    let mut vars: Vec<(&str, &str)> = vec![
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ];
    vars.extend(tls_vars.iter().map(|(k, v)| (*k, v.as_str())));
    let guard = Telemetry::builder_from_env(&vars)
        .without_globals()
        .retry_policy(otel_init::RetryPolicy {
            max_attempts: 2,
            ..fast_retry()
        })
        .build()
        .expect("init");
    guard
        .tracer_provider()
        .expect("tracer")
        .tracer("tls")
        .in_span("over-tls", |_| {});
    let report = guard.shutdown();
    (report.export.traces.exported, report.export.traces.failed)
}

fn backend(h: &Harness, protocol: &str) -> SocketAddr {
    if protocol == "grpc" {
        h.receiver.grpc_addr()
    } else {
        h.receiver.http_addr()
    }
}

#[test]
fn custom_ca_is_trusted_and_unknown_ca_is_refused() {
    let pki = Pki::generate();
    for protocol in ["http/protobuf", "grpc"] {
        let h = Harness::start();
        let port = tls_proxy(&h, pki.server_config(false), backend(&h, protocol));
        let trusted = export_one(
            protocol,
            port,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("ca.pem"))],
        );
        assert_eq!(trusted, (1, 0), "{protocol} with the custom CA");
        assert!(h.receiver.span_named("over-tls").is_some(), "{protocol}");

        h.receiver.clear();
        let untrusted = export_one(protocol, port, &[]);
        assert_eq!(
            untrusted,
            (0, 1),
            "{protocol} without the CA must not connect"
        );
        assert!(h.receiver.spans().is_empty());
    }
}

#[test]
fn mutual_tls_sends_the_client_certificate() {
    let pki = Pki::generate();
    for protocol in ["http/protobuf", "grpc"] {
        let h = Harness::start();
        let port = tls_proxy(&h, pki.server_config(true), backend(&h, protocol));
        let with_identity = export_one(
            protocol,
            port,
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("ca.pem")),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                    pki.path("client.pem"),
                ),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                    pki.path("client.key"),
                ),
            ],
        );
        assert_eq!(
            with_identity,
            (1, 0),
            "{protocol} with a client certificate"
        );

        let without_identity = export_one(
            protocol,
            port,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("ca.pem"))],
        );
        assert_eq!(
            without_identity,
            (0, 1),
            "{protocol}: the server requires a client certificate"
        );
        assert_eq!(h.receiver.spans().len(), 1);
    }
}

#[test]
fn a_client_key_without_its_certificate_is_an_init_error() {
    let pki = Pki::generate();
    let key = pki.path("client.key");
    let err = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.as_str())])
        .without_globals()
        .build()
        .expect_err("key alone");
    assert!(
        err.to_string()
            .contains("a client certificate is required as well"),
        "{err}"
    );
}
