//! `OTEL_INIT_RESOURCE_DETECTORS`: which resource detectors run at start-up.

use super::env::EnvReader;
use super::push_unique;

/// A resource detector: a source of attributes that describe where the
/// service runs. All of them run by default; `OTEL_INIT_RESOURCE_DETECTORS`
/// (a comma-separated list, `all` or `none`) or
/// [`TelemetryBuilder::resource_detectors`](crate::TelemetryBuilder::resource_detectors)
/// chooses. `OTEL_RESOURCE_ATTRIBUTES` and the builder's attributes always
/// win over what a detector finds.
///
/// ```
/// use otel_init::config::{Config, ResourceDetector};
/// let nothing_set: [(&str, &str); 0] = [];
/// assert_eq!(Config::from_source(&nothing_set).resource_detectors, ResourceDetector::ALL);
///
/// let config = Config::from_source(&[("OTEL_INIT_RESOURCE_DETECTORS", "host,container")]);
/// assert_eq!(config.resource_detectors, [ResourceDetector::Host, ResourceDetector::Container]);
///
/// let none = Config::from_source(&[("OTEL_INIT_RESOURCE_DETECTORS", "none")]);
/// assert!(none.resource_detectors.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceDetector {
    /// `host`: `host.name` and `host.arch`.
    Host,
    /// `os`: `os.type`, and on Linux `os.description` (from `/etc/os-release`)
    /// and `os.version` (the kernel release).
    Os,
    /// `process`: `process.pid`, `process.executable.name` and the
    /// `process.runtime.*` attributes.
    Process,
    /// `container`: `container.id`, from `/proc/self/cgroup` (cgroup v1) or
    /// `/proc/self/mountinfo` (cgroup v2).
    Container,
    /// `k8s`: `k8s.pod.name`, `k8s.pod.uid`, `k8s.namespace.name` and
    /// `k8s.node.name`, from the environment variables a pod's downward API
    /// is usually mapped to (see docs/configuration.md).
    Kubernetes,
}

impl ResourceDetector {
    /// Every detector, in the order they run: the default.
    ///
    /// ```
    /// assert_eq!(otel_init::config::ResourceDetector::ALL.len(), 5);
    /// ```
    pub const ALL: [ResourceDetector; 5] = [
        ResourceDetector::Host,
        ResourceDetector::Os,
        ResourceDetector::Process,
        ResourceDetector::Container,
        ResourceDetector::Kubernetes,
    ];

    /// The name `OTEL_INIT_RESOURCE_DETECTORS` uses.
    ///
    /// ```
    /// use otel_init::config::ResourceDetector;
    /// assert_eq!(ResourceDetector::Kubernetes.name(), "k8s");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ResourceDetector::Host => "host",
            ResourceDetector::Os => "os",
            ResourceDetector::Process => "process",
            ResourceDetector::Container => "container",
            ResourceDetector::Kubernetes => "k8s",
        }
    }
}

pub(super) const VARIABLE: &str = "OTEL_INIT_RESOURCE_DETECTORS";

pub(super) fn read_resource_detectors(r: &mut EnvReader<'_>) -> Vec<ResourceDetector> {
    let Some(raw) = r.string(VARIABLE) else {
        return ResourceDetector::ALL.to_vec();
    };
    let mut out = Vec::new();
    let mut valid_entry = false;
    for entry in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let lower = entry.to_ascii_lowercase();
        match lower.as_str() {
            "none" => return Vec::new(),
            "all" => {
                valid_entry = true;
                for d in ResourceDetector::ALL {
                    push_unique(&mut out, d);
                }
            }
            "kubernetes" => {
                valid_entry = true;
                push_unique(&mut out, ResourceDetector::Kubernetes);
            }
            name => match ResourceDetector::ALL.iter().find(|d| d.name() == name) {
                Some(d) => {
                    valid_entry = true;
                    push_unique(&mut out, *d);
                }
                None => r.warn(
                    VARIABLE,
                    entry,
                    "a comma-separated list of host, os, process, container, k8s, all or none; ignoring this entry",
                ),
            },
        }
    }
    if !valid_entry {
        // Only unknown entries (or an empty value): keep the default.
        return ResourceDetector::ALL.to_vec();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn unknown_entries_are_skipped_with_a_warning() {
        let config = Config::from_source(&[(VARIABLE, "os, gpu ,K8S")]);
        assert_eq!(
            config.resource_detectors,
            [ResourceDetector::Os, ResourceDetector::Kubernetes]
        );
        assert_eq!(config.warnings.len(), 1);
        assert_eq!(config.warnings[0].variable, VARIABLE);
        assert!(config.warnings[0].to_string().contains("\"gpu\""));
    }

    #[test]
    fn only_unknown_entries_keep_the_default() {
        let config = Config::from_source(&[(VARIABLE, "gpu")]);
        assert_eq!(config.resource_detectors, ResourceDetector::ALL);
        let empty = Config::from_source(&[(VARIABLE, " ")]);
        assert_eq!(empty.resource_detectors, ResourceDetector::ALL);
    }

    #[test]
    fn all_and_kubernetes_spellings() {
        let config = Config::from_source(&[(VARIABLE, "kubernetes,all")]);
        assert_eq!(config.resource_detectors.len(), 5);
        assert_eq!(config.resource_detectors[0], ResourceDetector::Kubernetes);
    }
}
