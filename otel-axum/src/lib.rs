//! Axum/tower server middleware: server spans, HTTP semantic conventions and metrics.
//!
//! Not implemented yet: this crate is reserved in the workspace and tracked by its own issue.
#![deny(missing_docs)]
