//! The inventory service: `GET /stock?skus=lamp,mug` answers the stock
//! levels from the database.

use crate::database::Database;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use std::time::Duration;
use storefront::StockLevel;
use tracing::{info, warn};

#[derive(Clone)]
struct Inventory {
    database: Database,
    hold: Duration,
}

/// The inventory's routes.
pub fn router(database: Database, hold: Duration) -> Router {
    Router::new()
        .route("/stock", get(stock))
        .with_state(Inventory { database, hold })
}

#[derive(Deserialize)]
struct StockQuery {
    /// Comma-separated SKUs.
    skus: String,
}

/// No handler span of its own: the database spans (`acquire connection`,
/// the query) sit directly under the server span `GET /stock`, so the
/// waterfall shows at a glance how much of the request was spent waiting.
async fn stock(
    State(inventory): State<Inventory>,
    Query(query): Query<StockQuery>,
) -> Result<Json<Vec<StockLevel>>, (StatusCode, String)> {
    let skus = parse_skus(&query.skus);
    match inventory.database.stock(&skus, inventory.hold).await {
        Ok(levels) => {
            info!(inventory.sku_count = skus.len(), "stock looked up");
            Ok(Json(levels))
        }
        Err(e) => {
            warn!(error = %e, "stock lookup failed");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                format!("stock lookup failed: {e}"),
            ))
        }
    }
}

/// `"lamp, mug,,lamp"` -> `["lamp", "mug"]` (at most 20).
fn parse_skus(list: &str) -> Vec<String> {
    let mut skus: Vec<String> = Vec::new();
    for sku in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if skus.len() < 20 && !skus.iter().any(|s| s == sku) {
            skus.push(sku.to_owned());
        }
    }
    skus
}

#[cfg(test)]
mod tests {
    use super::parse_skus;

    #[test]
    fn skus_are_trimmed_deduplicated_and_bounded() {
        assert_eq!(parse_skus("lamp, mug,,lamp"), vec!["lamp", "mug"]);
        assert!(parse_skus("").is_empty());
        let many: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
        assert_eq!(parse_skus(&many.join(",")).len(), 20);
    }
}
