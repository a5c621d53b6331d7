//! An in-process OTLP receiver (gRPC and HTTP) that records what it gets and
//! can inject faults.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use std::time::Duration;
//! use otel_testing::receiver::OtlpReceiver;
//!
//! let receiver = OtlpReceiver::start().await?;
//! // Point the code under test at receiver.grpc_endpoint() or
//! // receiver.http_endpoint(), then:
//! assert!(receiver.wait_for_spans(1, Duration::from_secs(5)).await);
//! let spans = receiver.spans();
//! # Ok(()) }
//! ```

mod grpc;
mod http;
mod query;
mod serve;
mod store;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use query::attr;
use store::Store;
pub use store::{
    Behavior, ExportRequest, Received, Signal, Transport, grpc_code_for_http, http_status_for_grpc,
};

/// The running servers of one receiver.
struct Running {
    grpc: JoinHandle<()>,
    http: JoinHandle<()>,
}

impl Running {
    fn spawn(store: &Arc<Store>, grpc: TcpListener, http: TcpListener) -> Self {
        Running {
            grpc: serve::spawn(grpc, grpc::GrpcRouter::new(Arc::clone(store))),
            http: serve::spawn(http, http::router(Arc::clone(store))),
        }
    }

    fn abort(&self) {
        self.grpc.abort();
        self.http.abort();
    }
}

/// An OTLP receiver listening on loopback: gRPC on one port, HTTP
/// (`/v1/traces`, `/v1/metrics`, `/v1/logs`) on another.
///
/// Every accepted request is recorded with its headers and transport; see the
/// accessors ([`spans`](Self::spans), [`requests`](Self::requests), …) and the
/// `wait_for*` methods. Faults are injected with
/// [`set_behavior`](Self::set_behavior), an outage with
/// [`pause`](Self::pause)/[`resume`](Self::resume).
///
/// Dropping the receiver stops both servers (tasks are aborted; it works on
/// current-thread and multi-thread runtimes alike).
pub struct OtlpReceiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

impl OtlpReceiver {
    /// Binds gRPC and HTTP on `127.0.0.1:0` and starts serving. Must be called
    /// within a tokio runtime (the servers are spawned onto it).
    pub async fn start() -> io::Result<OtlpReceiver> {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let grpc = serve::bind(any)?;
        let http = serve::bind(any)?;
        let grpc_addr = grpc.local_addr()?;
        let http_addr = http.local_addr()?;
        let store = Arc::new(Store::default());
        let running = Running::spawn(&store, grpc, http);
        Ok(OtlpReceiver {
            store,
            grpc_addr,
            http_addr,
            running: Mutex::new(Some(running)),
        })
    }

    /// The gRPC endpoint, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The HTTP endpoint, `http://127.0.0.1:PORT` (append `/v1/traces` etc.).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The address the gRPC server listens on.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The address the HTTP server listens on.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Sets how requests are answered from now on (see [`Behavior`]).
    pub fn set_behavior(&self, behavior: Behavior) {
        self.store.set_behavior(behavior);
    }

    /// The current behaviour.
    pub fn behavior(&self) -> Behavior {
        self.store.behavior()
    }

    /// Whether the servers are listening (false between
    /// [`pause`](Self::pause) and [`resume`](Self::resume)).
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Simulates an outage: closes both listeners, so new connections are
    /// refused, and drops every open connection (including requests held by
    /// [`Behavior::Blackhole`]). Recorded data is kept. Returns once the
    /// listeners are closed. Does nothing when already paused.
    pub async fn pause(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            running.abort();
            // An aborted task reports back only after its future (and so the
            // listener it owns) has been dropped.
            let _ = running.grpc.await;
            let _ = running.http.await;
        }
    }

    /// Ends an outage started by [`pause`](Self::pause): listens again on the
    /// same ports. Fails if a port was taken by someone else meanwhile. Does
    /// nothing when already running.
    pub async fn resume(&self) -> io::Result<()> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.is_none() {
            let grpc = serve::bind(self.grpc_addr)?;
            let http = serve::bind(self.http_addr)?;
            *running = Some(Running::spawn(&self.store, grpc, http));
        }
        Ok(())
    }

    /// Stops both servers and waits until their listeners are closed.
    pub async fn shutdown(self) {
        self.pause().await;
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let running = self
            .running
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            running.abort();
        }
    }
}
