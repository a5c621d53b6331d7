//! The `tracing` side: the layers that feed OpenTelemetry, the filter from
//! `RUST_LOG`, the log output chosen by `OTEL_INIT_LOG_FORMAT`, and the
//! global subscriber.

use crate::config::ConfigWarning;
use crate::diag;
use crate::error::InitError;
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel_logging::{JsonLayer, LogFormat};
use std::io::IsTerminal;
use tracing_subscriber::filter::{Directive, EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// A layer that can be added to the subscriber [`init`](crate::TelemetryBuilder::init) installs.
///
/// ```
/// use otel_init::BoxedLayer;
/// use tracing_subscriber::layer::SubscriberExt as _;
/// // Layers chosen at run time share one type; a Vec of them is a layer too.
/// let verbose = std::env::var_os("VERBOSE").is_some();
/// let mut layers: Vec<BoxedLayer> = Vec::new();
/// if verbose {
///     layers.push(Box::new(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)));
/// }
/// layers.push(Box::new(tracing_subscriber::fmt::layer().json().with_writer(std::io::sink)));
/// let subscriber = tracing_subscriber::registry().with(layers);
/// tracing::subscriber::with_default(subscriber, || tracing::info!("through boxed layers"));
/// // The same values go to `TelemetryBuilder::with_layer` before `init()`.
/// ```
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

/// The target of sqlx's own statement logs, whose events carry the whole SQL
/// text with its literals (`db.statement`, `summary`): every statement at
/// `debug`, slow ones at `warn` (sqlx's defaults).
pub(crate) const SQLX_STATEMENT_TARGET: &str = "sqlx::query";

/// [`otel_layers`] without sqlx's statement logs: the layer
/// [`TelemetryGuard::layer`](crate::TelemetryGuard::layer) gives to users who
/// compose their own subscriber, so that no SQL literal is exported through it.
pub(crate) fn otel_layers_without_sqlx_statements<S>(
    tracer: Option<&SdkTracerProvider>,
    logger: Option<&SdkLoggerProvider>,
) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let targets = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target(SQLX_STATEMENT_TARGET, LevelFilter::OFF);
    Box::new(otel_layers(tracer, logger).with_filter(targets))
}

/// `RUST_LOG`, or `default` when unset; a bad value warns and uses `default`.
/// sqlx's statement logs are off unless the directives name their target.
pub(crate) fn env_filter(
    rust_log: Option<String>,
    default: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> EnvFilter {
    let fallback = || EnvFilter::try_new(default).unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, directives) = match rust_log.filter(|v| !v.trim().is_empty()) {
        None => (fallback(), default.to_owned()),
        Some(v) => match EnvFilter::try_new(&v) {
            Ok(filter) => (filter, v),
            Err(e) => {
                warnings.push(ConfigWarning {
                    variable: "RUST_LOG".to_owned(),
                    value: v.clone(),
                    expected: format!(
                        "tracing-subscriber filter directives ({e}); using {default:?}"
                    ),
                });
                (fallback(), default.to_owned())
            }
        },
    };
    let mut filter = filter;
    if !directives.contains(SQLX_STATEMENT_TARGET)
        && let Ok(off) = format!("{SQLX_STATEMENT_TARGET}=off").parse::<Directive>()
    {
        filter = filter.add_directive(off);
    }
    if !directives.contains(OPENTELEMETRY_TARGETS)
        && let Ok(warn) = format!("{OPENTELEMETRY_TARGETS}=warn").parse::<Directive>()
    {
        filter = filter.add_directive(warn);
    }
    filter
}

/// The prefix of the OpenTelemetry crates' own diagnostics (their
/// `internal-logs` feature, which many builds turn on through a default
/// feature): "Global tracer provider is set" and the like at `info` and
/// `debug`. Only their warnings and errors pass unless the directives name
/// the target (otel-init reports its own state through `OTEL_LOG_LEVEL`).
pub(crate) const OPENTELEMETRY_TARGETS: &str = "opentelemetry";

/// The variable that chooses the log output of `init()`.
pub(crate) const LOG_FORMAT_VAR: &str = "OTEL_INIT_LOG_FORMAT";

/// `OTEL_INIT_LOG_FORMAT`, or `auto` when unset; a bad value warns and uses `auto`.
pub(crate) fn log_format(raw: Option<String>, warnings: &mut Vec<ConfigWarning>) -> LogFormat {
    let Some(value) = raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return LogFormat::Auto;
    };
    value.parse().unwrap_or_else(|_| {
        warnings.push(ConfigWarning {
            variable: LOG_FORMAT_VAR.to_owned(),
            value: value.clone(),
            expected: format!("one of {}; using auto", LogFormat::ACCEPTED.join(", ")),
        });
        LogFormat::Auto
    })
}

/// The log output on stdout: human-readable on a terminal, JSON lines with
/// trace ids otherwise (unless `format` says), or nothing.
pub(crate) fn output_layer(format: LogFormat, service_name: &str) -> Option<BoxedLayer> {
    let terminal = std::io::stdout().is_terminal();
    match format.resolve(terminal) {
        LogFormat::None => None,
        LogFormat::Json => match JsonLayer::builder().service_name(service_name).build() {
            Ok(layer) => Some(Box::new(layer)),
            Err(e) => {
                diag::warn(format_args!(
                    "cannot start the JSON log writer ({e}); writing human-readable logs instead"
                ));
                Some(text_layer(terminal))
            }
        },
        LogFormat::Text | LogFormat::Auto => Some(text_layer(terminal)),
    }
}

fn text_layer(ansi: bool) -> BoxedLayer {
    Box::new(
        tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_ansi(ansi),
    )
}

pub(crate) fn install(
    otel: BoxedLayer,
    output: Option<BoxedLayer>,
    extra: Vec<BoxedLayer>,
    filter: EnvFilter,
) -> Result<(), InitError> {
    let mut layers: Vec<BoxedLayer> = vec![otel];
    layers.extend(output);
    layers.extend(extra);
    let subscriber = Registry::default().with(layers.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| InitError::SubscriberAlreadySet(e.to_string()))?;
    // Records of the `log` crate (still used by many dependencies) become
    // events too, unless the application installed its own `log` logger.
    if let Err(e) = otel_logging::capture_log_records() {
        diag::debug(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the events that reach it.
    struct Count(Arc<AtomicUsize>);

    impl<S: tracing::Subscriber> Layer<S> for Count {
        fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many of a slow-statement warning from sqlx and an ordinary
    /// warning pass `RUST_LOG=rust_log`.
    fn passing(rust_log: Option<&str>) -> (usize, usize) {
        let filter = env_filter(rust_log.map(str::to_owned), "info", &mut Vec::new());
        let (sqlx, other) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let sqlx_count =
            Count(sqlx.clone()).with_filter(Targets::new().with_target("sqlx", LevelFilter::TRACE));
        let other_count = Count(other.clone())
            .with_filter(Targets::new().with_target("shop", LevelFilter::TRACE));
        let subscriber = Registry::default()
            .with(filter)
            .with(sqlx_count)
            .with(other_count);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "sqlx::query", summary = "SELECT pg_sleep(1.2), 'secret'", "slow statement: execution time exceeded alert threshold");
            tracing::warn!(target: "shop", "an ordinary warning");
        });
        (sqlx.load(Ordering::Relaxed), other.load(Ordering::Relaxed))
    }

    #[test]
    fn sqlx_statement_logs_pass_only_when_rust_log_names_them() {
        assert_eq!(passing(None), (0, 1), "default filter");
        assert_eq!(passing(Some("debug")), (0, 1), "a broad level");
        assert_eq!(
            passing(Some("info,sqlx=debug")),
            (0, 1),
            "sqlx's other targets"
        );
        assert_eq!(passing(Some("[bad")), (0, 1), "a bad value falls back");
        assert_eq!(
            passing(Some("info,sqlx::query=warn")),
            (1, 1),
            "named: opted in"
        );
    }

    /// How many of an OpenTelemetry crate's info and warning pass `RUST_LOG=rust_log`.
    fn opentelemetry_passing(rust_log: Option<&str>) -> usize {
        let filter = env_filter(rust_log.map(str::to_owned), "info", &mut Vec::new());
        let count = Arc::new(AtomicUsize::new(0));
        let subscriber = Registry::default().with(filter).with(Count(count.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "opentelemetry", "Global tracer provider is set.");
            tracing::debug!(target: "opentelemetry_sdk", "BatchSpanProcessor.ExportingDueToTimer");
            tracing::warn!(target: "opentelemetry_sdk", "BatchSpanProcessor.SpanDroppingStarted");
        });
        count.load(Ordering::Relaxed)
    }

    #[test]
    fn opentelemetry_diagnostics_pass_from_warn_unless_rust_log_names_them() {
        assert_eq!(
            opentelemetry_passing(None),
            1,
            "default filter: the warning"
        );
        assert_eq!(opentelemetry_passing(Some("debug")), 1, "a broad level");
        // Naming any OpenTelemetry target hands them all back to the directives.
        assert_eq!(
            opentelemetry_passing(Some("info,opentelemetry_sdk=debug")),
            3,
            "named"
        );
        assert_eq!(
            opentelemetry_passing(Some("opentelemetry=debug")),
            3,
            "named"
        );
        assert_eq!(
            opentelemetry_passing(Some("[bad")),
            1,
            "a bad value falls back"
        );
    }

    #[test]
    fn the_guard_layer_exports_no_sqlx_statement_log() {
        use opentelemetry_sdk::logs::InMemoryLogExporter;
        let exporter = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber =
            Registry::default().with(otel_layers_without_sqlx_statements(None, Some(&provider)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "sqlx::query", summary = "SELECT 'secret'", "slow statement");
            tracing::warn!(target: "shop", "kept");
        });
        let bodies: Vec<String> = exporter
            .get_emitted_logs()
            .expect("logs")
            .iter()
            .map(|l| format!("{:?}", l.record.body()))
            .collect();
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        assert!(bodies[0].contains("kept"), "{bodies:?}");
    }

    #[test]
    fn log_format_is_read_like_other_enumerated_variables() {
        let mut warnings = Vec::new();
        assert_eq!(log_format(None, &mut warnings), LogFormat::Auto);
        assert_eq!(
            log_format(Some("  ".into()), &mut warnings),
            LogFormat::Auto
        );
        assert_eq!(
            log_format(Some(" JSON ".into()), &mut warnings),
            LogFormat::Json
        );
        assert_eq!(
            log_format(Some("text".into()), &mut warnings),
            LogFormat::Text
        );
        assert_eq!(
            log_format(Some("None".into()), &mut warnings),
            LogFormat::None
        );
        assert!(warnings.is_empty());
        assert_eq!(
            log_format(Some(" yaml".into()), &mut warnings),
            LogFormat::Auto
        );
        assert_eq!(
            warnings[0].to_string(),
            "invalid value \"yaml\" for OTEL_INIT_LOG_FORMAT: expected one of auto, json, text, none; using auto"
        );
    }
}
