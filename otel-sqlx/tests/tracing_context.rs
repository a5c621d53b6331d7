//! The parent of a query span is the current OpenTelemetry context, which
//! tracing-opentelemetry (0.34, context activation on by default) keeps in
//! step with the current `tracing` span: a query inside
//! `#[instrument]`-style code becomes a child of that span.
#![cfg(feature = "sqlite")]

mod common;

use common::*;
use tracing::Instrument as _;
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[test]
fn queries_inside_a_tracing_span_are_its_children() {
    let mut env = Env::start();
    let subscriber = tracing_subscriber::registry().with(env.guard().layer());
    env.run(
        async {
            let pool = env
                .instrumented(
                    sqlx::SqlitePool::connect("sqlite::memory:")
                        .await
                        .expect("pool"),
                )
                .build();
            async {
                sqlx::query("SELECT 1")
                    .fetch_one(&pool)
                    .await
                    .expect("outer");
                async {
                    let mut tx = pool.begin().await.expect("begin");
                    sqlx::query("SELECT 2")
                        .fetch_one(&mut *tx)
                        .await
                        .expect("inner");
                    tx.commit().await.expect("commit");
                }
                .instrument(tracing::info_span!("load_cart"))
                .await;
            }
            .instrument(tracing::info_span!("checkout", otel.kind = "server"))
            .await;
            // Outside any span: a root span of its own.
            sqlx::query("SELECT 3")
                .fetch_one(&pool)
                .await
                .expect("orphan");
        }
        .with_subscriber(subscriber),
    );
    let spans = env.finish();
    let checkout = one(&spans, "checkout");
    let load_cart = one(&spans, "load_cart");
    assert_eq!(load_cart.parent_span_id, checkout.span_id);

    let selects = named(&spans, "SELECT");
    assert_eq!(selects.len(), 3);
    let children_of = |parent: &[u8]| spans.iter().filter(|s| s.parent_span_id == parent).count();
    // checkout: load_cart, its own query and that query's wait.
    assert_eq!(children_of(&checkout.span_id), 3);
    // load_cart: acquire + BEGIN + SELECT + COMMIT.
    assert_eq!(children_of(&load_cart.span_id), 4);
    for span in spans
        .iter()
        .filter(|s| s.parent_span_id == load_cart.span_id)
    {
        assert_eq!(span.trace_id, checkout.trace_id);
    }
    let orphans: Vec<_> = selects
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(orphans.len(), 1, "the query outside any span is a root");
}
