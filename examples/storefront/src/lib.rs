//! What the storefront demo's services and its load generator share: the
//! product catalogue the inventory seeds, the JSON bodies exchanged
//! between the load generator, the storefront and the inventory, the gRPC
//! API of the payment service ([`payment_api`], compiled from
//! `proto/payment.proto`), and how both programs start their Tokio runtime.
//!
//! ```
//! use storefront::{CATALOG, CartItem, CheckoutRequest};
//!
//! let cart = CheckoutRequest {
//!     cart_id: "cart-1".to_owned(),
//!     items: vec![CartItem { sku: CATALOG[0].sku.to_owned(), quantity: 1 }],
//! };
//! assert_eq!(serde_json::to_value(&cart)?["items"][0]["sku"], "lamp");
//! # Ok::<(), serde_json::Error>(())
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod api;
pub mod catalog;

/// The payment service's gRPC API (`storefront.payment.Payment`), generated
/// from `proto/payment.proto` at build time.
///
/// ```
/// let request = storefront::payment_api::ChargeRequest { order_id: 7, amount_cents: 899, currency: "EUR".to_owned() };
/// assert_eq!(request.currency, "EUR");
/// ```
#[allow(missing_docs, clippy::all)]
pub mod payment_api {
    tonic::include_proto!("storefront.payment");
}

pub use api::{CartItem, CheckoutRequest, CheckoutResponse, StockLevel};
pub use catalog::{CATALOG, Product, SCARCE_SKU};

/// A multi-thread Tokio runtime; when it cannot start, the reason is printed
/// on stderr under `program`'s name and the exit code to return is given
/// instead.
///
/// ```
/// let runtime = storefront::start_runtime("storefront").expect("a runtime");
/// assert_eq!(runtime.block_on(async { 2 + 2 }), 4);
/// ```
pub fn start_runtime(program: &str) -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("{program}: cannot start the Tokio runtime: {e}");
            std::process::ExitCode::FAILURE
        })
}
