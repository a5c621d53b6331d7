//! `client.address` of real requests through a served app: the connection's
//! peer by default, forged forwarding headers ignored; the forwarded client
//! only behind trusted proxies.

mod common;

use axum::Router;
use axum::routing::get;
use common::{Peer, served_spans, value};
use otel_axum::OtelLayerBuilder;

const FORGED: &[(&str, &str)] = &[("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=6.6.6.6")];
const VIA_PROXIES: &[(&str, &str)] = &[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")];
const FORWARDED: &[(&str, &str)] = &[(
    "forwarded",
    "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2",
)];

/// `(client.address, client.port, network.peer.address)` of each request.
async fn addresses(
    builder: impl FnOnce(OtelLayerBuilder) -> OtelLayerBuilder,
    peer: Peer,
    requests: &[&[(&str, &str)]],
) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    let app = Router::new().route("/", get(|| async { "ok" }));
    let requests: Vec<(&str, &[(&str, &str)])> = requests.iter().map(|h| ("/", *h)).collect();
    served_spans(app, builder, peer, &requests)
        .await
        .iter()
        .map(|a| {
            (
                value(a, "client.address"),
                value(a, "client.port"),
                value(a, "network.peer.address"),
            )
        })
        .collect()
}

fn addr(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[tokio::test]
async fn by_default_the_peer_and_forged_headers_are_ignored() {
    let got = addresses(|b| b, Peer::ConnectInfo, &[&[], FORGED, VIA_PROXIES]).await;
    for (client, port, peer) in &got {
        assert_eq!(client, &addr("127.0.0.1"));
        assert_eq!(peer, &addr("127.0.0.1"));
        assert!(
            port.as_deref().is_some_and(|p| p.parse::<u16>().is_ok()),
            "{port:?}"
        );
    }
    // Without the connection's address nothing is known, and nothing is made up.
    let got = addresses(|b| b, Peer::Unknown, &[FORGED]).await;
    assert_eq!(got, [(None, None, None)]);
}

#[tokio::test]
async fn behind_trusted_proxies_the_closest_untrusted_address() {
    let proxies = |b: OtelLayerBuilder| b.trusted_proxies(["127.0.0.1", "10.0.0.0/8"]);
    let got = addresses(proxies, Peer::ConnectInfo, &[VIA_PROXIES, FORWARDED, &[]]).await;
    assert_eq!(
        got[0].0,
        addr("203.0.113.7"),
        "the forged 6.6.6.6 is further left"
    );
    assert_eq!(got[0].1, None);
    assert_eq!(got[0].2, addr("127.0.0.1"));
    assert_eq!(
        (got[1].0.clone(), got[1].1.clone()),
        (addr("2001:db8::7"), addr("4711"))
    );
    assert_eq!(got[2].0, addr("127.0.0.1"), "no header: the peer");

    // The peer is not among the trusted proxies: its headers are not believed.
    let elsewhere = |b: OtelLayerBuilder| b.trusted_proxies(["10.0.0.0/8"]);
    let got = addresses(elsewhere, Peer::ConnectInfo, &[VIA_PROXIES]).await;
    assert_eq!(got[0].0, addr("127.0.0.1"));

    // A list cannot be checked without the peer: nothing from the headers.
    let got = addresses(proxies, Peer::Unknown, &[VIA_PROXIES]).await;
    assert_eq!(got[0].0, None);
}

#[tokio::test]
async fn trusting_every_proxy_takes_the_left_most() {
    let all = |b: OtelLayerBuilder| b.trust_all_proxies();
    let got = addresses(all, Peer::ConnectInfo, &[VIA_PROXIES, &[]]).await;
    assert_eq!(got[0].0, addr("6.6.6.6"));
    assert_eq!(got[1].0, addr("127.0.0.1"));
    let got = addresses(all, Peer::Unknown, &[FORWARDED]).await;
    assert_eq!(got[0].0, addr("6.6.6.6"));
}
