//! Exemplar settings of the builder.

use super::*;
use crate::config::ExemplarFilter;

impl TelemetryBuilder {
    /// Which histogram measurements are kept as exemplars (overrides
    /// `OTEL_METRICS_EXEMPLAR_FILTER`; default `trace_based`). See
    /// [`crate::metrics`].
    ///
    /// ```
    /// use otel_init::config::ExemplarFilter;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "console"),
    ///     ("OTEL_METRICS_EXEMPLAR_FILTER", "always_on"),
    /// ])
    /// .exemplar_filter(ExemplarFilter::AlwaysOff) // no exemplars, whatever the environment says
    /// .without_globals()
    /// .build()?;
    /// let meters = telemetry.exemplar_meter_provider().expect("metrics are on");
    /// assert_eq!(meters.exemplar_filter(), ExemplarFilter::AlwaysOff);
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn exemplar_filter(mut self, filter: ExemplarFilter) -> Self {
        self.config.exemplar_filter = filter;
        self
    }
}
