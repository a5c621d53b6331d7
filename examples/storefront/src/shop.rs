//! The storefront: `POST /checkout` asks the inventory for the cart's stock
//! (HTTP, otel-reqwest), then charges the order through the payment service
//! (gRPC, otel-tonic).

use crate::BoxError;
use crate::config::env_or;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use http::StatusCode;
use otel_axum::TraceIds;
use otel_init::opentelemetry::KeyValue;
use otel_init::opentelemetry::trace::get_active_span;
use otel_reqwest::UrlTemplate;
use otel_reqwest::reqwest_middleware::ClientWithMiddleware;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use storefront::payment_api::ChargeRequest;
use storefront::payment_api::payment_client::PaymentClient;
use storefront::{CartItem, CheckoutRequest, CheckoutResponse, StockLevel};
use tonic::transport::{Channel, Endpoint};
use tracing::{Instrument, Span, field, info, info_span, warn};

/// The traced gRPC client of the payment service.
type Payments = PaymentClient<otel_tonic::OtelClientService<Channel>>;

/// The storefront's state: the traced clients and where the other services are.
pub struct App {
    client: ClientWithMiddleware,
    inventory_url: String,
    payments: Payments,
    next_order: AtomicU64,
}

impl App {
    /// From `INVENTORY_URL` and `PAYMENT_URL` (set by the launcher). Build it
    /// after telemetry is initialised: the client middleware picks up the
    /// global providers.
    pub fn from_env() -> Result<App, BoxError> {
        let inventory_url = env_or("INVENTORY_URL", "");
        let payment_url = env_or("PAYMENT_URL", "");
        if inventory_url.is_empty() || payment_url.is_empty() {
            return Err("the storefront needs INVENTORY_URL and PAYMENT_URL \
                        (run `storefront` without --role to start all three services)"
                .into());
        }
        // A gRPC channel to the payment service (connected on first use),
        // behind otel-tonic's client layer: a CLIENT span per call.
        let endpoint = Endpoint::from_shared(payment_url.trim_end_matches('/').to_owned())
            .map_err(|e| format!("PAYMENT_URL {payment_url:?} is not a URL: {e}"))?;
        let channel = tower::ServiceBuilder::new()
            .layer(
                otel_tonic::OtelClientLayer::builder()
                    .target(endpoint.uri())
                    .build(),
            )
            .service(endpoint.connect_lazy());
        Ok(App {
            client: otel_reqwest::traced_client()?,
            inventory_url: inventory_url.trim_end_matches('/').to_owned(),
            payments: PaymentClient::new(channel),
            next_order: AtomicU64::new(1001),
        })
    }
}

/// The storefront's routes.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/checkout", post(checkout))
        .with_state(Arc::new(app))
}

/// How a checkout ended, before it becomes a response.
enum Outcome {
    Paid {
        amount_cents: i64,
        transaction: String,
    },
    InsufficientStock {
        amount_cents: i64,
        missing: Vec<String>,
    },
    InventoryUnavailable(String),
    PaymentFailed {
        amount_cents: i64,
        reason: String,
    },
}

async fn checkout(
    State(app): State<Arc<App>>,
    ids: TraceIds,
    Json(cart): Json<CheckoutRequest>,
) -> (StatusCode, Json<CheckoutResponse>) {
    let order_id = app.next_order.fetch_add(1, Ordering::Relaxed);
    // On the server span too, so that a backend's search by tag finds the
    // request's root by order or cart.
    get_active_span(|span| {
        span.set_attribute(KeyValue::new("order.id", order_id as i64));
        span.set_attribute(KeyValue::new("cart.id", cart.cart_id.clone()));
    });
    // The business span under the framework's server span.
    let span = info_span!(
        "checkout_cart",
        order.id = order_id,
        cart.id = %cart.cart_id,
        items.count = cart.items.len(),
        payment.amount = field::Empty,
        otel.status_code = field::Empty,
        otel.status_message = field::Empty,
    );
    let outcome = place_order(&app, order_id, &cart.items)
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    let (status, state, amount_cents, detail) = match outcome {
        Outcome::Paid {
            amount_cents,
            transaction,
        } => {
            info!(order_id, amount_cents, "order placed");
            (StatusCode::OK, "paid", amount_cents, transaction)
        }
        Outcome::InsufficientStock {
            amount_cents,
            missing,
        } => (
            StatusCode::BAD_REQUEST,
            "insufficient_stock",
            amount_cents,
            format!("not enough stock for {}", missing.join(", ")),
        ),
        Outcome::InventoryUnavailable(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "inventory_unavailable",
            0,
            reason,
        ),
        Outcome::PaymentFailed {
            amount_cents,
            reason,
        } => (
            StatusCode::BAD_GATEWAY,
            "payment_failed",
            amount_cents,
            reason,
        ),
    };
    (
        status,
        Json(CheckoutResponse {
            order_id,
            status: state.to_owned(),
            amount_cents,
            detail,
            trace_id: ids.trace_id.to_string(),
        }),
    )
}

/// Runs inside `checkout_cart`: stock, then payment.
async fn place_order(app: &App, order_id: u64, items: &[CartItem]) -> Outcome {
    let span = Span::current();
    let stock = match check_stock(app, items).await {
        Ok(stock) => stock,
        Err(reason) => {
            mark_error(&span, "inventory unavailable");
            warn!(order_id, %reason, "inventory unavailable");
            return Outcome::InventoryUnavailable(reason);
        }
    };
    let (amount_cents, missing) = price_and_shortage(items, &stock);
    span.record("payment.amount", amount_cents as f64 / 100.0);
    if !missing.is_empty() {
        // A handled business error: the storefront answers 400, and the
        // business span says ERROR with an event naming what is missing. (The
        // server span itself follows the HTTP conventions: a 4xx is not a
        // server error.)
        mark_error(&span, "insufficient stock");
        warn!(order_id, missing_items = %missing.join(","), "inventory_insufficient");
        return Outcome::InsufficientStock {
            amount_cents,
            missing,
        };
    }
    match charge(app, order_id, amount_cents).await {
        Ok(transaction) => Outcome::Paid {
            amount_cents,
            transaction,
        },
        Err(reason) => {
            mark_error(&span, "payment failed");
            warn!(order_id, %reason, "payment failed");
            Outcome::PaymentFailed {
                amount_cents,
                reason,
            }
        }
    }
}

fn mark_error(span: &Span, message: &str) {
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_message", message);
}

/// `GET {inventory}/stock?skus=...`: a CLIENT span `GET /stock` whose
/// context the inventory continues.
async fn check_stock(app: &App, items: &[CartItem]) -> Result<Vec<StockLevel>, String> {
    let skus: Vec<String> = items.iter().map(|i| encode_query_value(&i.sku)).collect();
    let response = app
        .client
        .get(format!(
            "{}/stock?skus={}",
            app.inventory_url,
            skus.join(",")
        ))
        .with_extension(UrlTemplate::new("/stock"))
        .send()
        .await
        .map_err(|e| format!("inventory unreachable: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("inventory answered {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|e| format!("inventory sent a bad answer: {e}"))
}

/// `storefront.payment.Payment/Charge` over gRPC: a CLIENT span of that
/// name, whose context the payment service continues.
async fn charge(app: &App, order_id: u64, amount_cents: i64) -> Result<String, String> {
    let request = ChargeRequest {
        order_id,
        amount_cents,
        currency: "EUR".to_owned(),
    };
    match app.payments.clone().charge(request).await {
        Ok(reply) => Ok(reply.into_inner().transaction_id),
        Err(status) => Err(format!(
            "payment answered {:?}: {}",
            status.code(),
            status.message()
        )),
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The order's total and the SKUs short of stock.
fn price_and_shortage(items: &[CartItem], stock: &[StockLevel]) -> (i64, Vec<String>) {
    let mut amount = 0i64;
    let mut missing = Vec::new();
    for item in items {
        match stock.iter().find(|s| s.sku == item.sku) {
            Some(level) => {
                amount = amount.saturating_add(level.price_cents.saturating_mul(item.quantity));
                if level.available < item.quantity {
                    missing.push(item.sku.clone());
                }
            }
            None => missing.push(item.sku.clone()),
        }
    }
    (amount, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: &str, quantity: i64) -> CartItem {
        CartItem {
            sku: sku.to_owned(),
            quantity,
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("lamp"), "lamp");
        assert_eq!(encode_query_value("a&b,c d"), "a%26b%2Cc%20d");
    }

    #[test]
    fn totals_and_shortages() {
        let stock = vec![
            StockLevel {
                sku: "mug".to_owned(),
                price_cents: 899,
                available: 10,
            },
            StockLevel {
                sku: "poster".to_owned(),
                price_cents: 100,
                available: 1,
            },
        ];
        assert_eq!(
            price_and_shortage(&[item("mug", 2)], &stock),
            (1798, vec![])
        );
        assert_eq!(
            price_and_shortage(
                &[item("mug", 1), item("poster", 2), item("ghost", 1)],
                &stock
            ),
            (1099, vec!["poster".to_owned(), "ghost".to_owned()])
        );
    }
}
