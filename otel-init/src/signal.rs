//! Waiting for the process to be asked to stop, so that a server can drain its
//! requests and the [`TelemetryGuard`](crate::TelemetryGuard) can flush what is
//! queued: SIGTERM (what `kill`, `docker stop` and a Kubernetes rollout send)
//! or Ctrl-C (SIGINT). Without a handler, SIGTERM ends the process at once and
//! whatever telemetry was still queued is lost.

use std::future::Future;

/// Which request to stop arrived.
///
/// ```
/// assert_eq!(otel_init::StopSignal::Terminate.to_string(), "SIGTERM");
/// assert_eq!(otel_init::StopSignal::Interrupt.to_string(), "Ctrl-C (SIGINT)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM (Unix only).
    Terminate,
    /// Ctrl-C: SIGINT on Unix, the console's Ctrl-C or Ctrl-Break on Windows.
    Interrupt,
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Interrupt => "Ctrl-C (SIGINT)",
        })
    }
}

/// Resolves when the process receives SIGTERM or Ctrl-C (on Unix; Ctrl-C
/// elsewhere), logging which at `info` level; made for
/// `axum::serve(..).with_graceful_shutdown(otel_init::shutdown_signal())`.
///
/// The handlers are installed when this function is called (inside a Tokio
/// runtime with its I/O driver enabled, as `#[tokio::main]` builds), not when
/// the future is first polled, so a signal that arrives in between is not
/// lost. Called outside a runtime, they are installed at the first poll.
/// Once installed, the signals no longer end the process on their own: the
/// program stops when `main` returns, after the server drained its requests
/// and the guard flushed (see `docs/deployment.md`). If a handler cannot be
/// installed, a warning says so and only the other signal is awaited.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let stop = otel_init::shutdown_signal();
/// # #[cfg(unix)] // What `kill <pid>` does:
/// # unsafe { libc::raise(libc::SIGTERM) };
/// # #[cfg(not(unix))]
/// # return;
/// stop.await; // returns: the signal was handled, the process goes on
/// # }
/// ```
///
/// With axum:
///
/// ```no_run
/// # async fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
/// axum::serve(listener, app)
///     .with_graceful_shutdown(otel_init::shutdown_signal())
///     .await
/// # }
/// ```
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let stop = wait_for_stop_signal();
    async move {
        let signal = stop.await;
        tracing::info!(%signal, "stop requested: draining requests, then flushing telemetry");
    }
}

/// Like [`shutdown_signal`], but says which signal arrived and logs nothing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let stop = otel_init::wait_for_stop_signal();
/// # #[cfg(unix)]
/// # {
/// unsafe { libc::raise(libc::SIGTERM) };
/// assert_eq!(stop.await, otel_init::StopSignal::Terminate);
/// # }
/// # }
/// ```
pub fn wait_for_stop_signal() -> impl Future<Output = StopSignal> + Send + 'static {
    let installed = tokio::runtime::Handle::try_current().is_ok();
    let mut handlers = installed.then(Handlers::install);
    async move {
        let handlers = match handlers.take() {
            Some(h) => h,
            None => Handlers::install(),
        };
        handlers.wait().await
    }
}

/// The installed handlers; `None` where one could not be installed.
struct Handlers {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Handlers {
    #[cfg(unix)]
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                crate::diag::warn(format_args!(
                    "cannot handle {name} ({e}); not waiting for it"
                ));
                None
            }
        };
        Handlers {
            terminate: install(SignalKind::terminate(), "SIGTERM"),
            interrupt: install(SignalKind::interrupt(), "SIGINT"),
        }
    }

    #[cfg(not(unix))]
    fn install() -> Self {
        Handlers {}
    }

    #[cfg(unix)]
    async fn wait(mut self) -> StopSignal {
        async fn next(signal: Option<&mut tokio::signal::unix::Signal>) {
            // `None` when the runtime shuts down: never a stop request.
            let received = match signal {
                Some(s) => s.recv().await.is_some(),
                None => false,
            };
            if !received {
                std::future::pending::<()>().await;
            }
        }
        tokio::select! {
            _ = next(self.terminate.as_mut()) => StopSignal::Terminate,
            _ = next(self.interrupt.as_mut()) => StopSignal::Interrupt,
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) -> StopSignal {
        if let Err(e) = tokio::signal::ctrl_c().await {
            crate::diag::warn(format_args!(
                "cannot handle Ctrl-C ({e}); not waiting for it"
            ));
            std::future::pending::<()>().await;
        }
        StopSignal::Interrupt
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// One test for both signals: a signal reaches every listener of the
    /// process, so two tests raising them in parallel would see each other's.
    #[test]
    fn each_signal_is_reported_and_none_is_lost_before_the_first_poll() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let got = rt.block_on(async {
            let stop = wait_for_stop_signal();
            // Installed at the call: the signal is not lost before the first poll.
            unsafe { libc::raise(libc::SIGINT) };
            stop.await
        });
        assert_eq!(got, StopSignal::Interrupt);

        // Outside a runtime the handlers are installed at the first poll.
        let stop = wait_for_stop_signal();
        let got = rt.block_on(async {
            let mut stop = std::pin::pin!(stop);
            let first = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(stop.as_mut().poll(cx).is_pending())
            })
            .await;
            assert!(first, "no signal yet");
            unsafe { libc::raise(libc::SIGTERM) };
            stop.await
        });
        assert_eq!(got, StopSignal::Terminate);
    }
}
