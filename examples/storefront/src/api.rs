//! The JSON bodies of the demo's HTTP calls (the payment service speaks
//! gRPC: [`crate::payment_api`]).

use serde::{Deserialize, Serialize};

/// One line of a cart.
///
/// ```
/// let item: storefront::CartItem = serde_json::from_str(r#"{"sku":"mug","quantity":2}"#)?;
/// assert_eq!(item.quantity, 2);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    /// The product.
    pub sku: String,
    /// How many units.
    pub quantity: i64,
}

/// `POST /checkout` on the storefront.
///
/// ```
/// let body = r#"{"cart_id":"cart-7","items":[{"sku":"mug","quantity":1}]}"#;
/// let cart: storefront::CheckoutRequest = serde_json::from_str(body)?;
/// assert_eq!(cart.cart_id, "cart-7");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    /// The cart being checked out.
    pub cart_id: String,
    /// What is in it.
    pub items: Vec<CartItem>,
}

/// The storefront's answer to a checkout (success or failure).
///
/// ```
/// let ok = storefront::CheckoutResponse {
///     order_id: 1001,
///     status: "paid".to_owned(),
///     amount_cents: 899,
///     detail: "txn-1001".to_owned(),
///     trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
/// };
/// assert!(serde_json::to_string(&ok)?.contains(r#""status":"paid""#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutResponse {
    /// The order created for the cart.
    pub order_id: u64,
    /// `paid`, `insufficient_stock`, `payment_failed` or `inventory_unavailable`.
    pub status: String,
    /// The order's total, in cents (0 when unknown).
    pub amount_cents: i64,
    /// The payment's transaction id, or what went wrong.
    pub detail: String,
    /// The trace of this request, to look it up in the tracing backend.
    pub trace_id: String,
}

/// One entry of the inventory's `GET /stock?skus=a,b` answer.
///
/// ```
/// let level: storefront::StockLevel =
///     serde_json::from_str(r#"{"sku":"mug","price_cents":899,"available":1200}"#)?;
/// assert_eq!(level.available, 1200);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The product.
    pub sku: String,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub available: i64,
}
