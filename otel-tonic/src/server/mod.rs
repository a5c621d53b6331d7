//! The server side: [`OtelServerLayer`] for `tonic::transport::Server` (or
//! around one tonic service), its service, future and builder.

mod builder;
mod config;
mod future;
mod layer;
mod service;

pub use builder::OtelServerLayerBuilder;
pub use future::ResponseFuture;
pub use layer::OtelServerLayer;
pub use service::OtelServerService;
