//! Attribute and instrument names (semantic conventions v1.3x, database
//! stable; the `db.client.connection.pool.*` span attributes and
//! `db.response.affected_rows` are this crate's own).

pub(crate) const DB_SYSTEM_NAME: &str = "db.system.name";
pub(crate) const DB_NAMESPACE: &str = "db.namespace";
pub(crate) const DB_OPERATION_NAME: &str = "db.operation.name";
pub(crate) const DB_COLLECTION_NAME: &str = "db.collection.name";
pub(crate) const DB_QUERY_TEXT: &str = "db.query.text";
pub(crate) const DB_QUERY_SUMMARY: &str = "db.query.summary";
pub(crate) const DB_QUERY_PARAMETER_PREFIX: &str = "db.query.parameter.";
pub(crate) const DB_RESPONSE_STATUS_CODE: &str = "db.response.status_code";
pub(crate) const DB_RESPONSE_RETURNED_ROWS: &str = "db.response.returned_rows";
/// Not in the conventions: rows inserted, updated or deleted.
pub(crate) const DB_RESPONSE_AFFECTED_ROWS: &str = "db.response.affected_rows";
pub(crate) const SERVER_ADDRESS: &str = "server.address";
pub(crate) const SERVER_PORT: &str = "server.port";
pub(crate) const ERROR_TYPE: &str = "error.type";

pub(crate) const POOL_NAME: &str = "db.client.connection.pool.name";
pub(crate) const CONNECTION_STATE: &str = "db.client.connection.state";
/// Connections open when the wait started (this crate's own).
pub(crate) const POOL_SIZE: &str = "db.client.connection.pool.size";
/// Idle connections when the wait started (this crate's own).
pub(crate) const POOL_IDLE: &str = "db.client.connection.pool.idle";
/// The pool's maximum size (this crate's own).
pub(crate) const POOL_MAX: &str = "db.client.connection.pool.max";
/// Requests waiting, this one included, when the wait started (this crate's own).
pub(crate) const POOL_PENDING: &str = "db.client.connection.pool.pending_requests";

pub(crate) const OPERATION_DURATION: &str = "db.client.operation.duration";
pub(crate) const CONNECTION_COUNT: &str = "db.client.connection.count";
pub(crate) const CONNECTION_MAX: &str = "db.client.connection.max";
pub(crate) const CONNECTION_IDLE_MIN: &str = "db.client.connection.idle.min";
pub(crate) const CONNECTION_PENDING: &str = "db.client.connection.pending_requests";
pub(crate) const CONNECTION_WAIT_TIME: &str = "db.client.connection.wait_time";
pub(crate) const CONNECTION_USE_TIME: &str = "db.client.connection.use_time";
pub(crate) const CONNECTION_TIMEOUTS: &str = "db.client.connection.timeouts";

/// The name of the connection-wait span.
pub(crate) const ACQUIRE_SPAN_NAME: &str = "acquire connection";

/// Bucket boundaries the conventions give for `db.client.operation.duration`
/// (also used for the wait and use times).
pub(crate) const DURATION_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];
