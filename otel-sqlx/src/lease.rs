//! Taking a connection from the pool with the wait traced, and timing how
//! long it is kept.

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::Context;
use sqlx::pool::PoolConnection;

use crate::database::InstrumentedDatabase;
use crate::shared::Shared;
use crate::telemetry::acquire::AcquireWait;
use crate::telemetry::signals::Signals;

/// Records `db.client.connection.use_time` when dropped.
pub(crate) struct UseTimer {
    signals: Arc<Signals>,
    acquired: Instant,
}

impl Drop for UseTimer {
    fn drop(&mut self) {
        self.signals
            .use_time
            .record(self.acquired.elapsed().as_secs_f64());
    }
}

/// A pooled connection and the timer of its use.
pub(crate) struct Lease<DB: InstrumentedDatabase> {
    pub(crate) connection: PoolConnection<DB>,
    pub(crate) timer: UseTimer,
}

/// Takes a connection from the pool: the wait becomes an "acquire
/// connection" span under `parent` (and metrics); the first connection also
/// tells MySQL from MariaDB.
pub(crate) async fn acquire<DB: InstrumentedDatabase>(
    shared: &Shared<DB>,
    parent: &Context,
) -> Result<Lease<DB>, sqlx::Error> {
    let wait = AcquireWait::begin(shared, parent);
    let result = shared.pool.acquire().await;
    let acquired = wait.end(result.as_ref().err());
    let mut connection = result?;
    shared.detect_system_name(&mut connection).await;
    Ok(Lease {
        connection,
        timer: UseTimer {
            signals: Arc::clone(shared.signals()),
            acquired,
        },
    })
}
