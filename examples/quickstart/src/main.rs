//! The quick-start service: one call at `main`, one layer on the router, one
//! middleware on the HTTP client, one wrapper around the database pool, then
//! ordinary `tracing` code.
//!
//! ```text
//! cargo run -p quickstart          # serves on 127.0.0.1:3000, traces printed as waterfalls on stderr
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run -p quickstart   # exported over OTLP
//! DATABASE_URL=postgres://postgres@localhost:5432/test cargo run -p quickstart  # carts in PostgreSQL
//! ```
//!
//! At start it sends two demo requests to itself, so a trace shows up at once.
//! Each checkout loads the order's cart from the database through `otel-sqlx`
//! (SQLite in memory unless `DATABASE_URL` names a PostgreSQL database), then
//! calls the payments route (here on the same service, as if it were another
//! one) through the instrumented client, so its trace holds the query's span,
//! the client span and the payments server span nested under it.
//! `QUICKSTART_ADDR` sets the address (default `127.0.0.1:3000`);
//! `QUICKSTART_EXIT_AFTER_DEMO=1` exits after the demo requests.

mod cart;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use cart::CartStore;
use otel_axum::{OtelLayer, TraceIds};
use otel_init::Telemetry;
use otel_init::opentelemetry::{KeyValue, global};
use otel_reqwest::UrlTemplate;
use otel_reqwest::reqwest_middleware::ClientWithMiddleware;
use std::net::SocketAddr;
use std::time::Duration;
use tracing::{error, info, warn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = Telemetry::builder()
        .crate_identity(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        // No collector configured: show the traces in the terminal instead.
        .console_unless_collector_configured()
        .init()?;

    let addr = std::env::var("QUICKSTART_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;

    // The layer, the client and the pool are built after init, so they pick up the global providers.
    let carts = CartStore::connect_and_seed().await?;
    info!(db.system.name = carts.system(), "carts loaded");
    let state = AppState {
        carts: carts.clone(),
        payments: Payments {
            client: otel_reqwest::traced_client()?,
            base_url: format!("http://{local}"),
        },
    };
    let app = Router::new()
        .route("/checkout/{order}", get(checkout))
        .route("/payments/{order}", post(pay))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
        .layer(
            OtelLayer::builder()
                .skip_paths(["/healthz"])
                .trace_response_header("traceresponse")
                .build(),
        );

    info!("listening on http://{local}");
    let exit_after_demo = std::env::var("QUICKSTART_EXIT_AFTER_DEMO").is_ok_and(|v| v == "1");
    let demo = tokio::spawn(async move {
        demo_requests(local).await;
        if !exit_after_demo {
            info!("try: curl -i http://{local}/checkout/3   (Ctrl-C to stop)");
            std::future::pending::<()>().await;
        }
    });
    // SIGTERM (kill, docker stop, a Kubernetes rollout) or Ctrl-C: the server
    // drains its requests, then the guard below flushes what is queued.
    let stop = otel_init::shutdown_signal();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = stop => {}
                _ = demo => {}
            }
        })
        .await?;

    carts.close().await;
    let report = telemetry.shutdown();
    info!(?report.export, "telemetry shut down");
    Ok(())
}

/// Two requests to ourselves: order 1 succeeds, order 2's payment is declined.
async fn demo_requests(addr: SocketAddr) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<String>();
    for order in 1..=2 {
        let uri = format!("http://{addr}/checkout/{order}");
        let Ok(req) = http::Request::get(&uri).body(String::new()) else {
            continue;
        };
        match client.request(req).await {
            Ok(res) => {
                let status = res.status();
                let body = res
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                info!(%status, body = %String::from_utf8_lossy(&body), "demo request {uri}");
            }
            Err(e) => warn!(error = %e, "demo request {uri} failed"),
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    carts: CartStore,
    payments: Payments,
}

/// How checkout reaches the payments service.
#[derive(Clone)]
struct Payments {
    client: ClientWithMiddleware,
    base_url: String,
}

async fn checkout(
    State(state): State<AppState>,
    Path(order): Path<u32>,
    ids: TraceIds,
) -> (http::StatusCode, String) {
    info!(order, "checkout started");
    // One query through otel-sqlx: a CLIENT span under this request's span.
    let items = match state.carts.items(order).await {
        Ok(items) if items.is_empty() => {
            warn!(order, "no cart for this order");
            return (
                http::StatusCode::NOT_FOUND,
                format!("order {order}: no cart (trace {})\n", ids.trace_id),
            );
        }
        Ok(items) => items,
        Err(e) => {
            error!(order, error = %e, "cart not loaded");
            return (
                http::StatusCode::SERVICE_UNAVAILABLE,
                format!("order {order}: cart unavailable (trace {})\n", ids.trace_id),
            );
        }
    };
    let articles: i64 = items.iter().map(|(_, qty)| qty).sum();
    info!(order, articles, "cart loaded");
    let orders = global::meter("quickstart")
        .u64_counter("quickstart.orders")
        .build();
    let result = charge_card(&state.payments, order).await;
    orders.add(
        1,
        &[KeyValue::new(
            "payment.outcome",
            if result.is_ok() { "paid" } else { "declined" },
        )],
    );
    match result {
        Ok(()) => {
            info!(order, "checkout finished");
            (
                http::StatusCode::OK,
                format!(
                    "order {order}: {articles} articles paid (trace {})\n",
                    ids.trace_id
                ),
            )
        }
        Err(reason) => {
            warn!(order, %reason, "payment declined");
            (
                http::StatusCode::PAYMENT_REQUIRED,
                format!("order {order}: {reason} (trace {})\n", ids.trace_id),
            )
        }
    }
}

/// One call to the payments service: the middleware records it as the CLIENT
/// span `POST /payments/{order}` and carries the trace to the payments route.
async fn charge_card(payments: &Payments, order: u32) -> Result<(), String> {
    let response = payments
        .client
        .post(format!("{}/payments/{order}", payments.base_url))
        .with_extension(UrlTemplate::new("/payments/{order}"))
        .send()
        .await
        .map_err(|e| format!("payments unreachable: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(response.text().await.unwrap_or_default())
    }
}

/// The payments service: even orders are declined.
async fn pay(Path(order): Path<u32>) -> (http::StatusCode, &'static str) {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if order.is_multiple_of(2) {
        (http::StatusCode::PAYMENT_REQUIRED, "card declined")
    } else {
        (http::StatusCode::OK, "paid")
    }
}
