//! reqwest-middleware client middleware: client spans, context injection and client metrics.
//!
//! Not implemented yet: this crate is reserved in the workspace and tracked by its own issue.
#![deny(missing_docs)]
