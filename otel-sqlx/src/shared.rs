//! The state one instrumented pool shares with its connections and
//! transactions: the sqlx pool, the configuration, the telemetry instruments
//! and the query-analysis cache.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, OnceLock, Weak};

use opentelemetry::{KeyValue, StringValue};
use sqlx::Pool;

use crate::analysis::AnalysisCache;
use crate::config::Config;
use crate::database::InstrumentedDatabase;
use crate::database::driver::Endpoint;
use crate::interned;
use crate::telemetry::keys;
use crate::telemetry::signals::Signals;

pub(crate) struct Shared<DB: InstrumentedDatabase> {
    pub(crate) pool: Pool<DB>,
    pub(crate) config: Config,
    pub(crate) endpoint: Endpoint,
    /// `db.client.connection.pool.name`.
    pub(crate) pool_name: Arc<str>,
    /// `db.namespace`, `server.address`, `server.port`, ready to clone.
    pub(crate) endpoint_attributes: Vec<KeyValue>,
    /// Requests waiting for a connection through this wrapper right now.
    pub(crate) pending: AtomicI64,
    pub(crate) analyses: AnalysisCache,
    detected_system_name: OnceLock<&'static str>,
    signals: OnceLock<Arc<Signals>>,
    this: Weak<Shared<DB>>,
}

impl<DB: InstrumentedDatabase> Shared<DB> {
    pub(crate) fn new(pool: Pool<DB>, config: Config) -> Arc<Self> {
        let endpoint = DB::endpoint(&pool.connect_options());
        let pool_name: Arc<str> = match &config.pool_name {
            Some(name) => Arc::from(name.as_str()),
            None => Arc::from(default_pool_name(&endpoint, DB::SYSTEM_NAME)),
        };
        let endpoint_attributes = endpoint_attributes(&endpoint);
        Arc::new_cyclic(|this| Shared {
            pool,
            config,
            endpoint,
            pool_name,
            endpoint_attributes,
            pending: AtomicI64::new(0),
            analyses: AnalysisCache::default(),
            detected_system_name: OnceLock::new(),
            signals: OnceLock::new(),
            this: this.clone(),
        })
    }

    /// `db.system.name`: configured, else detected, else the driver's.
    pub(crate) fn system_name(&self) -> &'static str {
        self.config
            .system_name
            .or_else(|| self.detected_system_name.get().copied())
            .unwrap_or(DB::SYSTEM_NAME)
    }

    /// Detects the product behind the driver on the first connection this
    /// pool hands out (MariaDB behind the MySQL driver); later calls return
    /// at once.
    pub(crate) async fn detect_system_name(&self, connection: &mut DB::Connection) {
        if self.config.system_name.is_some() || self.detected_system_name.get().is_some() {
            return;
        }
        let detected = DB::detect_system_name(connection).await;
        if detected.is_none() && DB::SYSTEM_NAME == "mysql" {
            tracing::debug!(
                target: "otel_sqlx",
                "could not tell MySQL from MariaDB; reporting db.system.name=mysql"
            );
        }
        let _ = self
            .detected_system_name
            .set(detected.unwrap_or(DB::SYSTEM_NAME));
    }

    /// The instruments, created on first use from the configured providers
    /// (or the global ones, as they are at that moment).
    pub(crate) fn signals(&self) -> &Arc<Signals> {
        self.signals.get_or_init(|| {
            Arc::new(Signals::new(
                &self.config,
                &self.pool_name,
                self.this.clone(),
            ))
        })
    }

    /// `db.client.connection.pool.name` as an attribute.
    pub(crate) fn pool_name_attribute(&self) -> KeyValue {
        KeyValue::new(
            keys::POOL_NAME,
            StringValue::from(Arc::clone(&self.pool_name)),
        )
    }
}

/// `address:port/namespace` as the conventions suggest when a pool has no
/// name; the namespace (file name) for SQLite.
fn default_pool_name(endpoint: &Endpoint, system: &str) -> String {
    let mut name = String::new();
    if let Some(address) = &endpoint.address {
        name.push_str(address);
        if let Some(port) = endpoint.port {
            name.push_str(&format!(":{port}"));
        }
    }
    if let Some(namespace) = &endpoint.namespace {
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(namespace);
    }
    if name.is_empty() {
        name.push_str(system);
    }
    name
}

fn endpoint_attributes(endpoint: &Endpoint) -> Vec<KeyValue> {
    let string = |s: &String| interned::value(s);
    let mut attributes = Vec::with_capacity(3);
    if let Some(namespace) = &endpoint.namespace {
        attributes.push(KeyValue::new(keys::DB_NAMESPACE, string(namespace)));
    }
    if let Some(address) = &endpoint.address {
        attributes.push(KeyValue::new(keys::SERVER_ADDRESS, string(address)));
    }
    if let Some(port) = endpoint.port {
        attributes.push(KeyValue::new(keys::SERVER_PORT, i64::from(port)));
    }
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_name_follows_the_conventions() {
        let network = Endpoint {
            address: Some("db.internal".into()),
            port: Some(5432),
            namespace: Some("shop".into()),
        };
        assert_eq!(
            default_pool_name(&network, "postgresql"),
            "db.internal:5432/shop"
        );
        let file = Endpoint {
            namespace: Some("app.db".into()),
            ..Endpoint::default()
        };
        assert_eq!(default_pool_name(&file, "sqlite"), "app.db");
        assert_eq!(default_pool_name(&Endpoint::default(), "sqlite"), "sqlite");
    }
}
