//! sqlx pool wrapper: query spans, pool-wait spans and database client metrics.
//!
//! Not implemented yet: this crate is reserved in the workspace and tracked by its own issue.
#![deny(missing_docs)]
