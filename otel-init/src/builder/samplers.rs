//! Sampling settings of the builder.

use super::*;

impl TelemetryBuilder {
    /// The head sampler (overrides `OTEL_TRACES_SAMPLER`); ratios must be
    /// within 0.0..=1.0 and rates 0 or more.
    ///
    /// ```
    /// use otel_init::{SamplerKind, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_SDK_DISABLED", "true")])
    ///     .sampler(SamplerKind::ParentBasedTraceIdRatio(0.1));
    /// assert_eq!(builder.config().sampler, SamplerKind::ParentBasedTraceIdRatio(0.1));
    /// ```
    pub fn sampler(mut self, kind: SamplerKind) -> Self {
        let problem = match &kind {
            SamplerKind::TraceIdRatio(p) | SamplerKind::ParentBasedTraceIdRatio(p)
                if !(0.0..=1.0).contains(p) =>
            {
                Some("a ratio from 0.0 to 1.0")
            }
            SamplerKind::RateLimited(n) | SamplerKind::ParentBasedRateLimited(n)
                if !(n.is_finite() && *n >= 0.0) =>
            {
                Some("a finite number of traces per second, 0 or more")
            }
            _ => None,
        };
        match problem {
            Some(expected) => self.errors.push(invalid("sampler", kind, expected)),
            None => self.config.sampler = kind,
        }
        self
    }

    /// Any head sampler, e.g. one of [`crate::sampling`] composed by hand.
    /// Tail and adaptive sampling still apply on top of it.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    /// use otel_init::sampling::{Action, ParentBased, Rule, RuleSampler};
    /// let health_checks_never = RuleSampler::new([Rule::any().name("health*").then(Action::never())]);
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .custom_sampler(ParentBased::new(health_checks_never))
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// assert!(!tracer.start("healthcheck").span_context().is_sampled());
    /// assert!(tracer.start("GET /cart").span_context().is_sampled()); // no rule matched
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn custom_sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.custom_sampler = Some(Box::new(sampler));
        self
    }

    /// Tail decisions in this process (overrides `OTEL_INIT_TAIL_*`): keep whole
    /// local fragments with an error or a slow root, besides what the head
    /// sampler keeps. See [`TailSampling`](crate::sampling::TailSampling).
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// use std::time::Duration;
    /// let tail = TailSampling::new().keep_slower_than(Duration::from_secs(2));
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_INIT_TAIL_SAMPLING", "true")])
    ///     .tail_sampling(tail);
    /// assert_eq!(builder.config().tail_sampling, Some(tail));
    /// ```
    pub fn tail_sampling(mut self, tail: crate::sampling::TailSampling) -> Self {
        self.config.tail_sampling = Some(tail);
        self
    }

    /// Raise the head ratio while the error rate is high (overrides
    /// `OTEL_INIT_ADAPTIVE_*`). See [`Adaptive`](crate::sampling::Adaptive).
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_INIT_ADAPTIVE_ERROR_RATE", "0.5")])
    ///     .adaptive_sampling(Adaptive::above(0.1));
    /// assert_eq!(builder.config().adaptive_sampling.map(|a| a.threshold()), Some(0.1));
    /// ```
    pub fn adaptive_sampling(mut self, adaptive: crate::sampling::Adaptive) -> Self {
        self.config.adaptive_sampling = Some(adaptive);
        self
    }
}
