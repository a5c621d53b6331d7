//! Every live writer, so that [`flush_all`] can reach writers installed in a
//! global subscriber.

use super::Output;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

static WRITERS: Mutex<Vec<Weak<Output>>> = Mutex::new(Vec::new());

pub(super) fn register(output: &Arc<Output>) {
    let mut writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
    writers.retain(|w| w.strong_count() > 0);
    writers.push(Arc::downgrade(output));
}

/// Flushes every [`LogWriter`](crate::LogWriter) still alive, waiting at most
/// `timeout` in total; returns whether all of them finished. It also runs by
/// itself (for up to a second) when the process exits normally, but calling
/// it at shutdown makes the order explicit: lines first, then whatever ends
/// the process.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let layer = otel_logging::JsonLayer::builder().service_name("checkout").build()?; // stdout
/// tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();
/// tracing::info!("stopping");
/// // At the end of main, before the process exits:
/// assert!(otel_logging::flush_all(std::time::Duration::from_secs(1)));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn flush_all(timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let writers: Vec<Arc<Output>> = WRITERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    // Every writer gets its turn, even after one has timed out.
    let mut all = true;
    for writer in &writers {
        all &= writer.flush(deadline.saturating_duration_since(Instant::now()));
    }
    all
}
