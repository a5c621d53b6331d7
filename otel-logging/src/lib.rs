//! JSON logs that carry trace ids, and the OTLP log bridge.
//!
//! Not implemented yet: this crate is reserved in the workspace and tracked by its own issue.
#![deny(missing_docs)]
