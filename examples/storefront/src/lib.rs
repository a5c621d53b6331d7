//! What the storefront demo's services and its load generator share: the
//! product catalogue the inventory seeds, and the JSON bodies exchanged
//! between the load generator, the storefront, the inventory and the payment
//! service.
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

pub use api::{
    CartItem, ChargeRequest, ChargeResponse, CheckoutRequest, CheckoutResponse, StockLevel,
};
pub use catalog::{CATALOG, Product, SCARCE_SKU};
