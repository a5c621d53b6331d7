//! The products the inventory seeds into its database at start.

/// One product of the demo shop.
///
/// ```
/// let lamp = &storefront::CATALOG[0];
/// assert_eq!((lamp.sku, lamp.price_cents), ("lamp", 1999));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Stock-keeping unit, the product's key.
    pub sku: &'static str,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units in stock when the inventory starts.
    pub quantity: i64,
}

/// The product with a single unit in stock: ordering two of it is refused
/// with `400 insufficient stock` (the load generator does so now and then).
///
/// ```
/// let scarce = storefront::CATALOG.iter().find(|p| p.sku == storefront::SCARCE_SKU);
/// assert_eq!(scarce.map(|p| p.quantity), Some(1));
/// ```
pub const SCARCE_SKU: &str = "vintage-poster";

/// Every product of the shop. Stock is only read, never decremented, so a
/// run's outcome does not depend on the order of earlier runs.
///
/// ```
/// assert!(storefront::CATALOG.len() >= 10);
/// ```
pub const CATALOG: &[Product] = &[
    Product {
        sku: "lamp",
        price_cents: 1999,
        quantity: 500,
    },
    Product {
        sku: "mug",
        price_cents: 899,
        quantity: 1200,
    },
    Product {
        sku: "teapot",
        price_cents: 3450,
        quantity: 80,
    },
    Product {
        sku: "notebook",
        price_cents: 499,
        quantity: 3000,
    },
    Product {
        sku: "fountain-pen",
        price_cents: 5900,
        quantity: 45,
    },
    Product {
        sku: "desk-plant",
        price_cents: 1500,
        quantity: 220,
    },
    Product {
        sku: "headphones",
        price_cents: 12900,
        quantity: 60,
    },
    Product {
        sku: "backpack",
        price_cents: 7400,
        quantity: 150,
    },
    Product {
        sku: "umbrella",
        price_cents: 2200,
        quantity: 310,
    },
    Product {
        sku: "socks",
        price_cents: 799,
        quantity: 2500,
    },
    Product {
        sku: "coffee-beans",
        price_cents: 1299,
        quantity: 900,
    },
    Product {
        sku: SCARCE_SKU,
        price_cents: 24900,
        quantity: 1,
    },
];
