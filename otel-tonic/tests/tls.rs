//! TLS tonic servers behind the server layer (feature `tls`), called over
//! loopback by a TLS tonic client behind the client layer: the SERVER span
//! has the connection's peer (`network.peer.address` / `network.peer.port`),
//! the CLIENT span the endpoint's `server.address` / `server.port` and no
//! `network.peer.*` (a `Channel` does not say which connection carried a
//! call). The certificates are generated per run with rcgen (a CA and a
//! `localhost` certificate).
//!
//! tonic records a TLS connection's info in two ways. Its own TLS
//! (`Server::builder().tls_config(..)`) puts both the `TcpConnectInfo` and the
//! `TlsConnectInfo<TcpConnectInfo>` into the request's extensions, so the
//! `transport` feature alone already finds the peer (the first test guards
//! that). A server that terminates TLS itself and hands tonic its
//! `tokio_rustls` streams (`serve_with_incoming`) gets only the
//! `TlsConnectInfo<TcpConnectInfo>`, which the `tls` feature reads (the
//! second test; without the feature's lookup it has no `network.peer.*`).

mod common;

use common::*;
use futures_util::StreamExt as _;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;
use otel_tonic_test_proto::echo_server::EchoServer;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig};

/// A CA and a `localhost` certificate signed by it, with its key.
struct Pki {
    ca_pem: String,
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Pki {
    fn generate() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca =
            CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .signed_by(&key, &ca)
            .expect("cert");
        Self {
            ca_pem: ca.pem(),
            cert,
            key,
        }
    }
}

/// Calls `Unary` once over TLS on `addr` through the client layer; returns
/// the client's local address (the peer the server must record).
async fn call_over_tls(t: &Telemetry, pki: &Pki, addr: SocketAddr) -> SocketAddr {
    let endpoint = Endpoint::from_shared(format!("https://localhost:{}", addr.port()))
        .expect("endpoint")
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&pki.ca_pem))
                .domain_name("localhost"),
        )
        .expect("client tls config");
    // The connector notes its local address; tonic runs TLS over it.
    let local: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let noted = local.clone();
    let connector = tower::service_fn(move |_uri: http::Uri| {
        let noted = noted.clone();
        async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            *noted.lock().expect("lock") = Some(stream.local_addr()?);
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    });
    let channel = endpoint
        .connect_with_connector(connector)
        .await
        .expect("TLS connect");
    let layer = t.client_layer().target(endpoint.uri()).build();
    let mut client = EchoClient::new(tower::ServiceBuilder::new().layer(layer).service(channel));
    client.unary(request("ok")).await.expect("ok over TLS");
    let local = *local.lock().expect("lock");
    local.expect("connected")
}

fn assert_peer(server: &SpanData, client_local: SocketAddr) {
    assert_eq!(attr_str(server, "rpc.status_code").as_deref(), Some("OK"));
    assert_eq!(
        attr_str(server, "network.peer.address").as_deref(),
        Some("127.0.0.1"),
        "{:?}",
        server.attributes
    );
    assert_eq!(
        attr(server, "network.peer.port"),
        Some(i64::from(client_local.port()).into())
    );
}

fn assert_client_span(client: &SpanData, addr: SocketAddr) {
    assert_eq!(
        attr_str(client, "server.address").as_deref(),
        Some("localhost")
    );
    assert_eq!(
        attr(client, "server.port"),
        Some(i64::from(addr.port()).into())
    );
    assert_eq!(attr(client, "network.peer.address"), None);
    assert_eq!(attr(client, "network.peer.port"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonics_own_tls_server_span_has_the_peer() {
    let t = Telemetry::new();
    let pki = Pki::generate();
    let (addr, incoming, stop, shutdown) = listen().await;
    let identity = Identity::from_pem(pki.cert.pem(), pki.key.serialize_pem());
    let router = Server::builder()
        .tls_config(ServerTlsConfig::new().identity(identity))
        .expect("tls config")
        .layer(t.server_layer().build())
        .add_service(EchoServer::new(TestEcho));
    let served = tokio::spawn(router.serve_with_incoming_shutdown(incoming, shutdown));

    let local = call_over_tls(&t, &pki, addr).await;
    assert_peer(&t.span(SpanKind::Server, UNARY).await, local);
    assert_client_span(&t.span(SpanKind::Client, UNARY).await, addr);

    let _ = stop.send(());
    served.await.expect("server task").expect("server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_terminating_tls_itself_has_the_peer_from_tls_connect_info() {
    let t = Telemetry::new();
    let pki = Pki::generate();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(pki.cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.serialize_der())),
        )
        .expect("server cert");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    // The application accepts TLS and gives tonic the TLS streams: tonic
    // records only their `TlsConnectInfo<TcpConnectInfo>`.
    let (addr, incoming, stop, shutdown) = listen().await;
    let incoming = incoming.then(move |tcp| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(tcp?).await }
    });
    let router = Server::builder()
        .layer(t.server_layer().build())
        .add_service(EchoServer::new(TestEcho));
    let served = tokio::spawn(router.serve_with_incoming_shutdown(incoming, shutdown));

    let local = call_over_tls(&t, &pki, addr).await;
    assert_peer(&t.span(SpanKind::Server, UNARY).await, local);
    assert_client_span(&t.span(SpanKind::Client, UNARY).await, addr);

    let _ = stop.send(());
    served.await.expect("server task").expect("server");
}
