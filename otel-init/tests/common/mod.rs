//! Shared by the integration tests: a receiver on its own runtime (so that a
//! blocking shutdown on the test thread can never starve it) and a helper that
//! emits one span, one log record and one metric through a guard.

#![allow(dead_code)]

use otel_init::TelemetryGuard;
use otel_init::opentelemetry::KeyValue;
use otel_init::opentelemetry::metrics::MeterProvider as _;
use otel_testing::OtlpReceiver;
use std::future::Future;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    pub receiver: OtlpReceiver,
}

impl Harness {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
        Self { rt, receiver }
    }

    pub fn wait<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn wait_until(&self, what: &str, f: impl Fn(&OtlpReceiver) -> bool) {
        let ok = self
            .rt
            .block_on(self.receiver.wait_for(Duration::from_secs(15), f));
        assert!(
            ok,
            "timed out waiting for {what}; received {:?}",
            self.receiver.requests().len()
        );
    }
}

/// A fast retry policy so that tests of retries take milliseconds.
pub fn fast_retry() -> otel_init::RetryPolicy {
    otel_init::RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        multiplier: 2.0,
    }
}

/// One span (with a child), one log event inside it, one counter increment.
pub fn emit_all_signals(guard: &TelemetryGuard) {
    let subscriber = tracing_subscriber::registry().with(guard.layer());
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("checkout", order = 42);
        let _entered = span.enter();
        tracing::info_span!("load_cart").in_scope(|| {
            tracing::warn!(items = 3, "cart is large");
        });
    });
    if let Some(meter) = guard.meter_provider() {
        meter
            .meter("tests")
            .u64_counter("test.orders")
            .build()
            .add(1, &[KeyValue::new("payment.method", "card")]);
    }
}
