//! The payment service, over gRPC: `storefront.payment.Payment/Charge`
//! charges through a simulated gateway that takes 15-40 ms and fails one
//! order in twenty (deterministically, by order id) with `UNAVAILABLE`, so
//! that error traces show up under any load.

use std::time::Duration;
use storefront::payment_api::payment_server::{Payment, PaymentServer};
use storefront::payment_api::{ChargeReply, ChargeRequest};
use tonic::{Request, Response, Status};
use tracing::{Instrument, field, info, info_span, warn};

/// The payment service, ready for `tonic::transport::Server::add_service`.
pub fn service() -> PaymentServer<Gateway> {
    PaymentServer::new(Gateway)
}

/// Whether the simulated gateway fails this order (one in twenty).
pub fn gateway_fails(order_id: u64) -> bool {
    order_id % 20 == 13
}

/// The simulated gateway's latency for this order: 15 to 39 ms.
fn gateway_latency(order_id: u64) -> Duration {
    Duration::from_millis(15 + order_id.wrapping_mul(37) % 25)
}

/// The `Payment` service: a card gateway simulated in-process.
pub struct Gateway;

#[tonic::async_trait]
impl Payment for Gateway {
    async fn charge(
        &self,
        request: Request<ChargeRequest>,
    ) -> Result<Response<ChargeReply>, Status> {
        let request = request.into_inner();
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
                Err(Status::unavailable("gateway_timeout"))
            } else {
                let transaction = format!("txn-{}", request.order_id);
                current.record("payment.transaction_id", transaction.as_str());
                info!(order_id = request.order_id, "payment captured");
                Ok(Response::new(ChargeReply {
                    transaction_id: transaction,
                }))
            }
        }
        .instrument(span)
        .await
    }
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
