//! What this build can export: settings that need a cargo feature which is
//! off get a warning (the variable, its value, the feature) and a fallback,
//! never an error or a panic. A protocol or an `https://` endpoint the build
//! cannot serve disables the OTLP exporter of that signal; gzip without the
//! `gzip` feature sends uncompressed; TLS files without `tls` are ignored.

use crate::config::{Compression, OtlpConfig, Protocol, Signal};
use std::borrow::Cow;

/// The settings to export `signal` with in this build, or `None` when its
/// OTLP exporter must be disabled; and the warnings for what it cannot honour.
pub(crate) fn usable(
    signal: Signal,
    config: &OtlpConfig,
) -> (Option<Cow<'_, OtlpConfig>>, Vec<String>) {
    let mut warnings = Vec::new();
    let variable = |suffix: &str| {
        format!(
            "OTEL_EXPORTER_OTLP_{suffix} (or OTEL_EXPORTER_OTLP_{}_{suffix})",
            signal.env_name()
        )
    };
    let protocol = config.protocol;
    if !protocol.is_built_in() {
        warnings.push(format!(
            "{} is {}, but otel-init was built without its cargo feature `{}`: {} are not \
             exported over OTLP (enable the feature, or choose {})",
            variable("PROTOCOL"),
            protocol.as_str(),
            protocol.cargo_feature(),
            signal.as_str(),
            built_in_protocols(),
        ));
        return (None, warnings);
    }
    let https = config
        .endpoint
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    if https && !cfg!(feature = "tls") {
        warnings.push(format!(
            "{} is {}, but otel-init was built without its cargo feature `tls`: {} are not \
             exported over OTLP (enable the feature, or use an http:// endpoint)",
            variable("ENDPOINT"),
            crate::redact::url(&config.endpoint),
            signal.as_str(),
        ));
        return (None, warnings);
    }
    let mut config = Cow::Borrowed(config);
    if config.compression == Some(Compression::Gzip) && !cfg!(feature = "gzip") {
        warnings.push(format!(
            "{} is gzip, but otel-init was built without its cargo feature `gzip`: {} are \
             sent uncompressed",
            variable("COMPRESSION"),
            signal.as_str(),
        ));
        config.to_mut().compression = None;
    }
    if !cfg!(feature = "tls") {
        let files = [
            ("CERTIFICATE", config.certificate.is_some()),
            ("CLIENT_KEY", config.client_key.is_some()),
            ("CLIENT_CERTIFICATE", config.client_certificate.is_some()),
        ];
        for (suffix, set) in files {
            if set {
                warnings.push(format!(
                    "{} is set, but otel-init was built without its cargo feature `tls`: \
                     ignoring it",
                    variable(suffix),
                ));
            }
        }
        let c = config.to_mut();
        (c.certificate, c.client_key, c.client_certificate) = (None, None, None);
    }
    (Some(config), warnings)
}

/// Whether requests are gzipped: configured and built in.
#[cfg_attr(
    not(any(feature = "gzip", feature = "http-proto", feature = "http-json")),
    allow(dead_code)
)]
pub(crate) fn gzip(config: &OtlpConfig) -> bool {
    cfg!(feature = "gzip") && config.compression == Some(Compression::Gzip)
}

fn built_in_protocols() -> String {
    let names: Vec<&str> = [Protocol::HttpProtobuf, Protocol::Grpc, Protocol::HttpJson]
        .into_iter()
        .filter(|p| p.is_built_in())
        .map(Protocol::as_str)
        .collect();
    names.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(protocol: Protocol) -> OtlpConfig {
        OtlpConfig::default_for(Signal::Traces, protocol)
    }

    #[test]
    fn a_built_in_protocol_over_http_is_used_as_is() {
        let c = config(Protocol::built_in_default());
        let (usable, warnings) = usable(Signal::Traces, &c);
        assert_eq!(usable.as_deref(), Some(&c));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[cfg(not(feature = "grpc"))]
    #[test]
    fn grpc_without_the_feature_disables_the_exporter_with_a_warning() {
        let c = config(Protocol::Grpc);
        let (usable, warnings) = usable(Signal::Traces, &c);
        assert!(usable.is_none());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert!(
            w.starts_with(
                "OTEL_EXPORTER_OTLP_PROTOCOL (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) is grpc"
            ),
            "{w}"
        );
        assert!(w.contains("cargo feature `grpc`"), "{w}");
        assert!(w.contains("traces are not exported"), "{w}");
    }

    #[cfg(not(feature = "http-json"))]
    #[test]
    fn http_json_without_the_feature_disables_the_exporter_with_a_warning() {
        let c = config(Protocol::HttpJson);
        let (usable, warnings) = usable(Signal::Logs, &c);
        assert!(usable.is_none());
        assert!(warnings[0].contains("is http/json"), "{warnings:?}");
        assert!(
            warnings[0].contains("cargo feature `http-json`"),
            "{warnings:?}"
        );
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_without_tls_disables_the_exporter_without_showing_credentials() {
        let mut c = config(Protocol::built_in_default());
        c.endpoint = "https://user:secret@collector:4318/v1/traces".into();
        let (usable, warnings) = usable(Signal::Traces, &c);
        assert!(usable.is_none());
        let w = &warnings[0];
        assert!(
            w.starts_with(
                "OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is https://"
            ),
            "{w}"
        );
        assert!(w.contains("cargo feature `tls`"), "{w}");
        assert!(!w.contains("secret"), "{w}");
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn tls_files_without_tls_are_ignored_with_a_warning() {
        let mut c = config(Protocol::built_in_default());
        c.certificate = Some("/etc/ca.pem".into());
        let (usable, warnings) = usable(Signal::Metrics, &c);
        let usable = usable.expect("an http:// endpoint is still exported to");
        assert_eq!(usable.certificate, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "OTEL_EXPORTER_OTLP_CERTIFICATE (or OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE) is set"
            ),
            "{warnings:?}"
        );
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn gzip_without_the_feature_sends_uncompressed_with_a_warning() {
        let mut c = config(Protocol::built_in_default());
        c.compression = Some(Compression::Gzip);
        let (usable, warnings) = usable(Signal::Logs, &c);
        let usable = usable.expect("still exported");
        assert_eq!(usable.compression, None);
        assert!(!gzip(&c));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "OTEL_EXPORTER_OTLP_COMPRESSION (or OTEL_EXPORTER_OTLP_LOGS_COMPRESSION) is gzip"
            ),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("cargo feature `gzip`"), "{warnings:?}");
    }

    #[cfg(all(feature = "grpc", feature = "tls", feature = "gzip"))]
    #[test]
    fn with_the_features_everything_is_honoured() {
        let mut c = config(Protocol::Grpc);
        c.endpoint = "https://collector:4317".into();
        c.compression = Some(Compression::Gzip);
        let (usable, warnings) = usable(Signal::Traces, &c);
        assert_eq!(usable.as_deref(), Some(&c));
        assert!(warnings.is_empty());
        assert!(gzip(&c));
    }
}
