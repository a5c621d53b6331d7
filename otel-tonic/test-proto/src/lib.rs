//! The generated code of `proto/echo.proto` (package `otel.test`, service `Echo`).
#![allow(missing_docs, clippy::all)]

tonic::include_proto!("otel.test");
