//! Which resource detectors run (`OTEL_INIT_RESOURCE_DETECTORS`).

use super::*;
use crate::config::ResourceDetector;

impl TelemetryBuilder {
    /// The resource detectors to run (overrides `OTEL_INIT_RESOURCE_DETECTORS`;
    /// default: all). An empty list runs none: the resource then holds the
    /// service, the SDK and what `OTEL_RESOURCE_ATTRIBUTES` and the builder set.
    ///
    /// ```
    /// use otel_init::{ResourceDetector, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_INIT_RESOURCE_DETECTORS", "none")])
    ///     .resource_detectors([ResourceDetector::Container, ResourceDetector::Kubernetes]);
    /// assert_eq!(
    ///     builder.config().resource_detectors,
    ///     [ResourceDetector::Container, ResourceDetector::Kubernetes]
    /// );
    /// let _telemetry = builder.service_name("checkout").without_globals().build()?;
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn resource_detectors(
        mut self,
        detectors: impl IntoIterator<Item = ResourceDetector>,
    ) -> Self {
        let mut chosen: Vec<ResourceDetector> = Vec::new();
        for detector in detectors {
            if !chosen.contains(&detector) {
                chosen.push(detector);
            }
        }
        self.config.resource_detectors = chosen;
        self
    }
}
