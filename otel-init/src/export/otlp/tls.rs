//! TLS material from `OTEL_EXPORTER_OTLP_CERTIFICATE`, `_CLIENT_KEY` and
//! `_CLIENT_CERTIFICATE`.

use crate::config::OtlpConfig;
use crate::error::InitError;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, InitError> {
    std::fs::read(path).map_err(|e| InitError::Tls {
        what,
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The PEM bytes of the CA and of the client identity, checked to be readable.
pub(crate) struct TlsFiles {
    pub ca: Option<Vec<u8>>,
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

pub(crate) fn load(config: &OtlpConfig) -> Result<TlsFiles, InitError> {
    let ca = match &config.certificate {
        Some(p) => Some(read("CA certificate", p)?),
        None => None,
    };
    let identity = match (&config.client_certificate, &config.client_key) {
        (Some(c), Some(k)) => Some((read("client certificate", c)?, read("client key", k)?)),
        (Some(c), None) => {
            return Err(InitError::Tls {
                what: "client certificate",
                path: c.clone(),
                reason: "a client key is required as well (OTEL_EXPORTER_OTLP_CLIENT_KEY)".into(),
            });
        }
        (None, Some(k)) => {
            return Err(InitError::Tls {
                what: "client key",
                path: k.clone(),
                reason: "a client certificate is required as well (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"
                    .into(),
            });
        }
        (None, None) => None,
    };
    Ok(TlsFiles { ca, identity })
}

/// A rustls client configuration for OTLP/HTTP: the system's roots plus the
/// configured CA, and the client identity for mutual TLS.
pub(crate) fn rustls_config(
    config: &OtlpConfig,
    files: &TlsFiles,
) -> Result<rustls::ClientConfig, InitError> {
    let tls_err = |what: &'static str, path: Option<&Path>, reason: String| InitError::Tls {
        what,
        path: path.map(Path::to_owned).unwrap_or_default(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(ca) = &files.ca {
        let path = config.certificate.as_deref();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(ca)
            .collect::<Result<_, _>>()
            .map_err(|e| tls_err("CA certificate", path, e.to_string()))?;
        if certs.is_empty() {
            return Err(tls_err(
                "CA certificate",
                path,
                "no PEM certificate found".into(),
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| tls_err("CA certificate", path, e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("TLS configuration", None, e.to_string()))?
        .with_root_certificates(roots);
    match &files.identity {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let cert_path = config.client_certificate.as_deref();
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<_, _>>()
                .map_err(|e| tls_err("client certificate", cert_path, e.to_string()))?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| tls_err("client key", config.client_key.as_deref(), e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_err("client certificate", cert_path, e.to_string()))
        }
    }
}
