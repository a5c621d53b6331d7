//! The export thread: one dedicated thread running its own current-thread
//! Tokio runtime. Every exporter, network client and timer lives there, so
//! exporting never runs on (or waits for) the application's runtime: no
//! "no reactor running" panic, no deadlock when the application shuts down
//! from a current-thread runtime.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::{Notify, oneshot};

#[derive(Debug)]
pub(crate) struct ExportRuntime {
    handle: Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    closing: Arc<Closing>,
}

/// Set when the guard starts shutting down: exports stop waiting between
/// retries, and a collector that refuses the connection is given up at once.
#[derive(Debug, Default)]
pub(crate) struct Closing {
    set: AtomicBool,
    notify: Notify,
}

impl Closing {
    pub(crate) fn begin(&self) {
        self.set.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// Resolves once shutdown has begun.
    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_set() {
            return;
        }
        notified.await;
    }
}

impl ExportRuntime {
    pub(crate) fn start() -> std::io::Result<Self> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("otel-export".to_owned())
            .spawn(move || {
                // Nothing the exporters' own libraries log or trace (hyper, h2,
                // tonic) may re-enter the telemetry pipeline it is exporting:
                // no `tracing` subscriber on this thread, and OpenTelemetry
                // telemetry suppressed (tests/export_thread.rs). The scoped
                // `NoSubscriber` has a cost: with a scoped default anywhere,
                // every thread's `tracing` dispatch takes the thread-local path
                // (+300 instructions per span, enter and event, measured). It
                // was tried without it: that path's re-entrancy guard is what
                // keeps an event emitted inside a layer's callback (the
                // OpenTelemetry crates' internal logs, from the log bridge)
                // from disabling the events that follow on that thread
                // (tests/tests/sqlx_statement_logs.rs lost every event after
                // the first), so it stays until that is fixed at its source.
                let _no_tracing =
                    tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
                let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(rt.handle().clone()));
                let _ = rt.block_on(stop_rx);
                // Tasks still running (an export to a blackholed collector) are
                // cancelled here; their callers have already given up waiting.
                rt.shutdown_timeout(Duration::from_millis(100));
            })?;
        let handle = handle_rx
            .recv()
            .map_err(|_| std::io::Error::other("export thread exited during start-up"))??;
        Ok(Self {
            handle,
            stop: Mutex::new(Some(stop_tx)),
            thread: Mutex::new(Some(thread)),
            closing: Arc::default(),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The flag the guard sets when shutdown begins.
    pub(crate) fn closing(&self) -> &Arc<Closing> {
        &self.closing
    }

    /// Stops the runtime and waits for the thread at most `timeout`.
    pub(crate) fn stop(&self, timeout: Duration) -> bool {
        if let Some(tx) = self.stop.lock().ok().and_then(|mut s| s.take()) {
            let _ = tx.send(());
        }
        let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) else {
            return true;
        };
        let deadline = std::time::Instant::now() + timeout;
        while !thread.is_finished() {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = thread.join();
        true
    }
}

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        self.stop(Duration::from_millis(200));
    }
}
