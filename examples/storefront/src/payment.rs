//! The payment service: `POST /charge` charges through a simulated gateway
//! that takes 15-40 ms and fails one order in twenty (deterministically, by
//! order id) with `503`, so that error traces show up under any load.

use axum::routing::post;
use axum::{Json, Router};
use http::StatusCode;
use std::time::Duration;
use storefront::{ChargeRequest, ChargeResponse};
use tracing::{Instrument, field, info, info_span, warn};

/// The payment service's routes.
pub fn router() -> Router {
    Router::new().route("/charge", post(charge))
}

/// Whether the simulated gateway fails this order (one in twenty).
pub fn gateway_fails(order_id: u64) -> bool {
    order_id % 20 == 13
}

/// The simulated gateway's latency for this order: 15 to 39 ms.
fn gateway_latency(order_id: u64) -> Duration {
    Duration::from_millis(15 + order_id.wrapping_mul(37) % 25)
}

async fn charge(Json(request): Json<ChargeRequest>) -> (StatusCode, Json<ChargeResponse>) {
    let span = info_span!(
        "charge_card",
        order.id = request.order_id,
        payment.amount = request.amount_cents as f64 / 100.0,
        payment.currency = %request.currency,
        payment.method = "card",
        payment.gateway = "demo-gateway",
        payment.transaction_id = field::Empty,
        payment.error_code = field::Empty,
        otel.status_code = field::Empty,
        otel.status_message = field::Empty,
    );
    async move {
        info!(order_id = request.order_id, "calling the payment gateway");
        tokio::time::sleep(gateway_latency(request.order_id)).await;
        let current = tracing::Span::current();
        if gateway_fails(request.order_id) {
            current.record("payment.error_code", "gateway_timeout");
            current.record("otel.status_code", "ERROR");
            current.record("otel.status_message", "payment gateway timed out");
            warn!(
                order_id = request.order_id,
                error_code = "gateway_timeout",
                "payment failed"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(ChargeResponse {
                    transaction_id: None,
                    error_code: Some("gateway_timeout".to_owned()),
                }),
            )
        } else {
            let transaction = format!("txn-{}", request.order_id);
            current.record("payment.transaction_id", transaction.as_str());
            info!(order_id = request.order_id, "payment captured");
            (
                StatusCode::OK,
                Json(ChargeResponse {
                    transaction_id: Some(transaction),
                    error_code: None,
                }),
            )
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_order_in_twenty_fails() {
        assert_eq!((1..=200).filter(|id| gateway_fails(*id)).count(), 10);
        assert!((0..100).all(|id| (15..40).contains(&(gateway_latency(id).as_millis() as u64))));
    }
}
