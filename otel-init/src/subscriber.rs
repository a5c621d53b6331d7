//! The `tracing` side: the layers that feed OpenTelemetry, the filter from
//! `RUST_LOG`, and the global subscriber.

use crate::config::ConfigWarning;
use crate::error::InitError;
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// A layer that can be added to the subscriber [`init`](crate::TelemetryBuilder::init) installs.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync + 'static>;

pub(crate) fn otel_layers<S>(
    tracer: Option<&SdkTracerProvider>,
    logger: Option<&SdkLoggerProvider>,
) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let mut layers: Vec<Box<dyn Layer<S> + Send + Sync + 'static>> = Vec::new();
    if let Some(provider) = tracer {
        let scope = InstrumentationScope::builder("otel-init")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope);
        layers.push(Box::new(tracing_opentelemetry::layer().with_tracer(tracer)));
    }
    if let Some(provider) = logger {
        layers.push(Box::new(OpenTelemetryTracingBridge::new(provider)));
    }
    Box::new(layers)
}

/// `RUST_LOG`, or `default` when unset; a bad value warns and uses `default`.
pub(crate) fn env_filter(
    rust_log: Option<String>,
    default: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> EnvFilter {
    let fallback = || EnvFilter::try_new(default).unwrap_or_else(|_| EnvFilter::new("info"));
    match rust_log.filter(|v| !v.trim().is_empty()) {
        None => fallback(),
        Some(v) => EnvFilter::try_new(&v).unwrap_or_else(|e| {
            warnings.push(ConfigWarning {
                variable: "RUST_LOG".to_owned(),
                value: v.clone(),
                expected: format!("tracing-subscriber filter directives ({e}); using {default:?}"),
            });
            fallback()
        }),
    }
}

pub(crate) fn install(
    otel: BoxedLayer,
    extra: Vec<BoxedLayer>,
    fmt: bool,
    filter: EnvFilter,
) -> Result<(), InitError> {
    let mut layers: Vec<BoxedLayer> = vec![otel];
    if fmt {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
        layers.push(Box::new(
            tracing_subscriber::fmt::layer()
                .with_target(true)
                .with_ansi(ansi),
        ));
    }
    layers.extend(extra);
    let subscriber = Registry::default().with(layers.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| InitError::SubscriberAlreadySet(e.to_string()))
}
