//! The client side: [`OtelClientLayer`] for `tonic::transport::Channel` (or
//! any `GrpcService`), its service, future and builder.

mod builder;
mod config;
mod future;
mod layer;
mod service;

pub use builder::OtelClientLayerBuilder;
pub use future::ResponseFuture;
pub use layer::OtelClientLayer;
pub use service::OtelClientService;
