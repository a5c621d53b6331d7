//! Set-ups for tests that are not `async`: a receiver with the runtime it
//! serves on, and the same receiver behind a real rotel collector.

use crate::receiver::OtlpReceiver;
use crate::rotel::{Rotel, require_rotel};
use std::io;
use std::ops::Deref;
use std::time::Duration;
use tokio::runtime::Runtime;

/// An [`OtlpReceiver`] serving on its own multi-thread runtime, so that a
/// synchronous test can start it, export to it and wait for what arrives.
/// Dereferences to the receiver for its queries.
///
/// ```
/// use otel_testing::blocking::ReceiverOnRuntime;
/// use std::time::Duration;
///
/// let receiver = ReceiverOnRuntime::start(1).expect("receiver");
/// assert!(receiver.grpc_endpoint().starts_with("http://127.0.0.1:"));
/// assert!(receiver.wait_for(Duration::from_millis(10), |r| r.spans().is_empty()));
/// ```
#[derive(Debug)]
pub struct ReceiverOnRuntime {
    // Declared before the runtime: dropped while the runtime still runs.
    receiver: OtlpReceiver,
    runtime: Runtime,
}

impl ReceiverOnRuntime {
    /// Starts a runtime with `worker_threads` threads and the receiver on it
    /// (loopback, ephemeral ports).
    pub fn start(worker_threads: usize) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1))
            .enable_all()
            .build()?;
        let receiver = runtime.block_on(OtlpReceiver::start())?;
        Ok(Self { receiver, runtime })
    }

    /// The runtime the receiver serves on, for the test's own async work.
    ///
    /// ```
    /// # let receiver = otel_testing::blocking::ReceiverOnRuntime::start(1).expect("receiver");
    /// let two = receiver.runtime().block_on(async { 1 + 1 });
    /// assert_eq!(two, 2);
    /// ```
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Waits up to `timeout` until `f` holds for what arrived; false if it
    /// never did.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let receiver = otel_testing::blocking::ReceiverOnRuntime::start(1).expect("receiver");
    /// // Nothing was exported: no span arrives.
    /// assert!(!receiver.wait_for(Duration::from_millis(50), |r| !r.spans().is_empty()));
    /// ```
    pub fn wait_for(&self, timeout: Duration, f: impl Fn(&OtlpReceiver) -> bool) -> bool {
        self.runtime.block_on(self.receiver.wait_for(timeout, f))
    }
}

impl ReceiverOnRuntime {
    /// Stops the receiver gracefully (see [`OtlpReceiver::shutdown`]), then
    /// the runtime.
    ///
    /// ```
    /// # let receiver = otel_testing::blocking::ReceiverOnRuntime::start(1).expect("receiver");
    /// let endpoint = receiver.grpc_endpoint();
    /// receiver.shutdown();
    /// # let _ = endpoint;
    /// ```
    pub fn shutdown(self) {
        let Self { receiver, runtime } = self;
        runtime.block_on(receiver.shutdown());
    }
}

impl Deref for ReceiverOnRuntime {
    type Target = OtlpReceiver;

    fn deref(&self) -> &OtlpReceiver {
        &self.receiver
    }
}

/// The end-to-end set-up: a real rotel collector receiving OTLP on loopback
/// and forwarding everything over gRPC to a [`ReceiverOnRuntime`], where the
/// test looks at what went through the collector. Both stop when it is
/// dropped.
///
/// ```
/// use otel_testing::blocking::ThroughRotel;
///
/// // None, with a message, when rotel is not installed (a failure on CI).
/// if let Some(chain) = ThroughRotel::start(1) {
///     assert!(chain.rotel.grpc_endpoint().starts_with("http://127.0.0.1:"));
///     assert!(chain.receiver.spans().is_empty());
/// }
/// ```
#[derive(Debug)]
pub struct ThroughRotel {
    /// The collector the application exports to.
    // Declared first: stopped before the receiver it forwards to.
    pub rotel: Rotel,
    /// Where rotel forwards what it receives.
    pub receiver: ReceiverOnRuntime,
}

impl ThroughRotel {
    /// Starts the receiver (on a runtime with `worker_threads` threads) and
    /// rotel in front of it. `None` when rotel cannot be found: the test
    /// should return (on CI, [`require_rotel`] fails the test instead).
    /// Panics if either cannot start.
    pub fn start(worker_threads: usize) -> Option<Self> {
        require_rotel()?;
        let receiver = ReceiverOnRuntime::start(worker_threads).expect("start the OTLP receiver");
        let rotel = Rotel::start_forwarding_to(&receiver.grpc_endpoint()).expect("start rotel");
        Some(Self { rotel, receiver })
    }
}
