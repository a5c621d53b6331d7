//! The resource: who is emitting the telemetry.
//!
//! `service.name` comes from `OTEL_SERVICE_NAME`, else the builder, else
//! `OTEL_RESOURCE_ATTRIBUTES`, else the calling crate's name (macro form),
//! else `unknown_service:<executable>`.
//!
//! The detectors ([`ResourceDetector`]) add where the service runs: host,
//! OS, process, container and Kubernetes pod. They have the lowest
//! precedence: `OTEL_RESOURCE_ATTRIBUTES` and the builder override them.

mod container;
mod host;
mod kubernetes;
mod system;

use crate::config::ResourceDetector;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::resource as rc;
use system::System;

/// What the builder knows about the service, before the environment is applied.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceIdentity {
    pub explicit_name: Option<String>,
    pub crate_name: Option<String>,
    pub version: Option<String>,
    pub attributes: Vec<KeyValue>,
}

/// What the environment and the builder say about the service.
pub(crate) struct ResourceSettings<'a> {
    pub(crate) env_service_name: Option<&'a str>,
    pub(crate) env_attributes: &'a [(String, String)],
    pub(crate) identity: &'a ServiceIdentity,
    pub(crate) detectors: &'a [ResourceDetector],
}

pub(crate) fn build(settings: &ResourceSettings<'_>) -> Resource {
    build_on(settings, &system::ThisMachine)
}

fn build_on(settings: &ResourceSettings<'_>, system: &dyn System) -> Resource {
    let ResourceSettings {
        env_service_name,
        env_attributes,
        identity,
        detectors,
    } = *settings;
    let mut attrs: Vec<KeyValue> = Vec::new();
    // Lowest precedence first; Resource keeps the last value for a key.
    attrs.push(KeyValue::new(rc::SERVICE_INSTANCE_ID, instance_id()));
    for detector in detectors {
        detect(*detector, system, &mut attrs);
    }
    attrs.push(KeyValue::new(rc::TELEMETRY_SDK_NAME, "opentelemetry"));
    attrs.push(KeyValue::new(rc::TELEMETRY_SDK_LANGUAGE, "rust"));
    attrs.push(KeyValue::new(rc::TELEMETRY_SDK_VERSION, SDK_VERSION));
    attrs.push(KeyValue::new(
        rc::TELEMETRY_DISTRO_NAME,
        env!("CARGO_PKG_NAME"),
    ));
    attrs.push(KeyValue::new(
        rc::TELEMETRY_DISTRO_VERSION,
        env!("CARGO_PKG_VERSION"),
    ));
    // The environment, then explicit builder settings on top of it.
    for (k, v) in env_attributes {
        attrs.push(KeyValue::new(k.clone(), v.clone()));
    }
    if let Some(v) = &identity.version {
        attrs.push(KeyValue::new(rc::SERVICE_VERSION, v.clone()));
    }
    attrs.extend(identity.attributes.iter().cloned());
    let from_env_attrs = env_attributes
        .iter()
        .rev()
        .find(|(k, _)| k == rc::SERVICE_NAME)
        .map(|(_, v)| v.clone());
    let service_name = env_service_name
        .map(str::to_owned)
        .or_else(|| identity.explicit_name.clone())
        .or(from_env_attrs)
        .or_else(|| identity.crate_name.clone())
        .unwrap_or_else(|| format!("unknown_service:{}", executable_name().unwrap_or_default()));
    attrs.push(KeyValue::new(rc::SERVICE_NAME, service_name));
    // Resource::builder_empty() skips the SDK's own detectors, which read the
    // environment a second time with their own rules.
    Resource::builder_empty().with_attributes(attrs).build()
}

/// The version of opentelemetry_sdk this crate was built against.
const SDK_VERSION: &str = "0.33";

fn instance_id() -> String {
    // A random UUID v4, formatted by hand to avoid a dependency.
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn detect(detector: ResourceDetector, system: &dyn System, attrs: &mut Vec<KeyValue>) {
    match detector {
        ResourceDetector::Host => host::detect_host(system, attrs),
        ResourceDetector::Os => host::detect_os(system, attrs),
        ResourceDetector::Process => detect_process(attrs),
        ResourceDetector::Container => {
            if let Some(id) = container::container_id(system) {
                attrs.push(KeyValue::new(rc::CONTAINER_ID, id));
            }
        }
        ResourceDetector::Kubernetes => kubernetes::detect(system, attrs),
    }
}

fn detect_process(attrs: &mut Vec<KeyValue>) {
    attrs.push(KeyValue::new(
        rc::PROCESS_PID,
        i64::from(std::process::id()),
    ));
    if let Some(exe) = executable_name() {
        attrs.push(KeyValue::new(rc::PROCESS_EXECUTABLE_NAME, exe));
    }
    attrs.push(KeyValue::new(rc::PROCESS_RUNTIME_NAME, "rustc"));
    attrs.push(KeyValue::new(
        rc::PROCESS_RUNTIME_VERSION,
        option_env!("OTEL_INIT_RUSTC_VERSION").unwrap_or("unknown"),
    ));
    attrs.push(KeyValue::new(
        rc::PROCESS_RUNTIME_DESCRIPTION,
        "Rust standard library",
    ));
}

fn executable_name() -> Option<String> {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// The string value of a resource attribute, if present.
pub(crate) fn get_str(resource: &Resource, key: &'static str) -> Option<String> {
    match resource.get(&opentelemetry::Key::from_static_str(key)) {
        Some(Value::String(s)) => Some(s.to_string()),
        Some(other) => Some(other.to_string()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use system::Fixture;

    fn build(
        env_service_name: Option<&str>,
        env_attributes: &[(String, String)],
        identity: &ServiceIdentity,
    ) -> Resource {
        super::build(&ResourceSettings {
            env_service_name,
            env_attributes,
            identity,
            detectors: &ResourceDetector::ALL,
        })
    }

    fn name(r: &Resource) -> String {
        get_str(r, rc::SERVICE_NAME).unwrap_or_default()
    }

    #[test]
    fn service_name_precedence() {
        let id = ServiceIdentity {
            explicit_name: Some("builder".into()),
            crate_name: Some("my-crate".into()),
            ..Default::default()
        };
        let attrs = vec![("service.name".to_owned(), "attrs".to_owned())];
        assert_eq!(name(&build(Some("env"), &attrs, &id)), "env");
        assert_eq!(name(&build(None, &attrs, &id)), "builder");
        let id2 = ServiceIdentity {
            crate_name: Some("my-crate".into()),
            ..Default::default()
        };
        assert_eq!(name(&build(None, &attrs, &id2)), "attrs");
        assert_eq!(name(&build(None, &[], &id2)), "my-crate");
        assert!(
            name(&build(None, &[], &ServiceIdentity::default())).starts_with("unknown_service:")
        );
    }

    #[test]
    fn standard_attributes_are_present() {
        let r = build(
            None,
            &[("deployment.environment.name".into(), "prod x".into())],
            &ServiceIdentity::default(),
        );
        for key in [
            rc::SERVICE_INSTANCE_ID,
            rc::PROCESS_PID,
            rc::TELEMETRY_SDK_NAME,
            rc::TELEMETRY_SDK_LANGUAGE,
            rc::TELEMETRY_SDK_VERSION,
            rc::PROCESS_RUNTIME_NAME,
        ] {
            assert!(get_str(&r, key).is_some(), "missing {key}");
        }
        assert_eq!(
            get_str(&r, "deployment.environment.name").as_deref(),
            Some("prod x")
        );
        let id = get_str(&r, rc::SERVICE_INSTANCE_ID).unwrap_or_default();
        assert_eq!(id.len(), 36);
    }

    fn on_fixture(
        dir: &str,
        env: Vec<(&'static str, &'static str)>,
        detectors: &[ResourceDetector],
    ) -> Resource {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/resource")
            .join(dir);
        assert!(root.is_dir(), "fixture {root:?}");
        let settings = ResourceSettings {
            env_service_name: Some("checkout"),
            env_attributes: &[],
            identity: &ServiceIdentity::default(),
            detectors,
        };
        build_on(&settings, &Fixture { root, env })
    }

    const ID: &str = "a3f1c0d2e4b5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f809";

    #[test]
    fn docker_with_cgroup_v1() {
        let r = on_fixture("docker-cgroup-v1", vec![], &ResourceDetector::ALL);
        assert_eq!(get_str(&r, rc::CONTAINER_ID).as_deref(), Some(ID));
        assert_eq!(get_str(&r, rc::HOST_NAME).as_deref(), Some("2f8a9c1b7d3e"));
        assert_eq!(
            get_str(&r, rc::OS_DESCRIPTION).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            get_str(&r, rc::OS_VERSION).as_deref(),
            Some("5.10.0-28-amd64")
        );
        assert_eq!(
            get_str(&r, rc::OS_TYPE).as_deref(),
            Some(host::os_type(std::env::consts::OS))
        );
        assert_eq!(
            get_str(&r, rc::HOST_ARCH).as_deref(),
            Some(host::host_arch(std::env::consts::ARCH))
        );
        // Not in Kubernetes: no k8s attributes, though HOSTNAME is set.
        assert_eq!(get_str(&r, rc::K8S_POD_NAME), None);
    }

    #[test]
    fn kubernetes_pod_with_containerd_and_cgroup_v2() {
        // Only the variables Kubernetes itself sets: the pod name comes from
        // HOSTNAME and the namespace from the service account's file.
        let kubernetes_only = vec![
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
            ("HOSTNAME", "checkout-7d9f8b6c5-x2k4q"),
        ];
        let r = on_fixture(
            "k8s-containerd-cgroup-v2",
            kubernetes_only,
            &ResourceDetector::ALL,
        );
        assert_eq!(get_str(&r, rc::CONTAINER_ID).as_deref(), Some(ID));
        assert_eq!(
            get_str(&r, rc::K8S_POD_NAME).as_deref(),
            Some("checkout-7d9f8b6c5-x2k4q")
        );
        assert_eq!(get_str(&r, rc::K8S_NAMESPACE_NAME).as_deref(), Some("shop"));
        assert_eq!(get_str(&r, rc::K8S_NODE_NAME), None);

        // The downward API's variables win over those fallbacks.
        let downward = vec![
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
            ("HOSTNAME", "custom-hostname"),
            ("K8S_POD_NAME", "checkout-7d9f8b6c5-x2k4q"),
            ("K8S_POD_UID", "5f1e2c3d-1111-2222-3333-444455556666"),
            ("POD_NAMESPACE", "shop-prod"),
            ("K8S_NODE_NAME", "node-a"),
        ];
        let r = on_fixture(
            "k8s-containerd-cgroup-v2",
            downward,
            &[ResourceDetector::Kubernetes],
        );
        assert_eq!(
            get_str(&r, rc::K8S_POD_NAME).as_deref(),
            Some("checkout-7d9f8b6c5-x2k4q")
        );
        assert_eq!(
            get_str(&r, rc::K8S_POD_UID).as_deref(),
            Some("5f1e2c3d-1111-2222-3333-444455556666")
        );
        assert_eq!(
            get_str(&r, rc::K8S_NAMESPACE_NAME).as_deref(),
            Some("shop-prod")
        );
        assert_eq!(get_str(&r, rc::K8S_NODE_NAME).as_deref(), Some("node-a"));
        // Only the chosen detector ran.
        assert_eq!(get_str(&r, rc::CONTAINER_ID), None);
        assert_eq!(get_str(&r, rc::HOST_NAME), None);
        assert_eq!(get_str(&r, rc::PROCESS_PID), None);
    }

    #[test]
    fn bare_host_has_no_container_or_pod() {
        let r = on_fixture("bare-host", vec![("POD_NAME", "")], &ResourceDetector::ALL);
        assert_eq!(get_str(&r, rc::CONTAINER_ID), None);
        assert_eq!(get_str(&r, rc::K8S_POD_NAME), None);
        assert_eq!(get_str(&r, rc::HOST_NAME).as_deref(), Some("build-box"));
        assert_eq!(
            get_str(&r, rc::OS_DESCRIPTION).as_deref(),
            Some("Alpine Linux v3.20")
        );
        assert_eq!(get_str(&r, rc::OS_VERSION), None); // no osrelease file
        assert!(get_str(&r, rc::PROCESS_PID).is_some());
    }

    #[test]
    fn no_detectors_and_precedence_over_detected_values() {
        let r = on_fixture("docker-cgroup-v1", vec![], &[]);
        for key in [
            rc::HOST_NAME,
            rc::HOST_ARCH,
            rc::OS_TYPE,
            rc::PROCESS_PID,
            rc::CONTAINER_ID,
        ] {
            assert_eq!(get_str(&r, key), None, "{key}");
        }
        // Always there: the service and the SDK.
        assert_eq!(get_str(&r, rc::SERVICE_NAME).as_deref(), Some("checkout"));
        assert!(get_str(&r, rc::TELEMETRY_SDK_NAME).is_some());

        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/resource/docker-cgroup-v1");
        let env_attributes = [("container.id".to_owned(), "from-env".to_owned())];
        let settings = ResourceSettings {
            env_service_name: None,
            env_attributes: &env_attributes,
            identity: &ServiceIdentity::default(),
            detectors: &ResourceDetector::ALL,
        };
        let r = build_on(&settings, &Fixture { root, env: vec![] });
        assert_eq!(get_str(&r, rc::CONTAINER_ID).as_deref(), Some("from-env"));
    }
}
