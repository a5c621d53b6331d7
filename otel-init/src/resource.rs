//! The resource: who is emitting the telemetry.
//!
//! `service.name` comes from `OTEL_SERVICE_NAME`, else the builder, else
//! `OTEL_RESOURCE_ATTRIBUTES`, else the calling crate's name (macro form),
//! else `unknown_service:<executable>`.

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::resource as rc;

/// What the builder knows about the service, before the environment is applied.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceIdentity {
    pub explicit_name: Option<String>,
    pub crate_name: Option<String>,
    pub version: Option<String>,
    pub attributes: Vec<KeyValue>,
}

pub(crate) fn build(
    env_service_name: Option<&str>,
    env_attributes: &[(String, String)],
    identity: &ServiceIdentity,
) -> Resource {
    let mut attrs: Vec<KeyValue> = Vec::new();
    // Lowest precedence first; Resource keeps the last value for a key.
    attrs.push(KeyValue::new(rc::SERVICE_INSTANCE_ID, instance_id()));
    if let Some(host) = host_name() {
        attrs.push(KeyValue::new(rc::HOST_NAME, host));
    }
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

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
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
}
