//! Retries per the OTLP exporter specification: only transient failures,
//! exponential backoff with jitter, and the server's `Retry-After` /
//! `RetryInfo` when it gives one. The batch deadline of the pipeline bounds
//! the whole loop. Shutdown beginning cuts the backoff under way short, and
//! once it has begun a collector that refuses the connection is given up at
//! once (other transient failures are still retried, within the shutdown
//! deadline).

use crate::export::runtime::Closing;
use std::future::Future;
use std::time::Duration;

/// How failed exports are retried.
///
/// ```
/// use otel_init::RetryPolicy;
/// use std::time::Duration;
/// let default = RetryPolicy::default();
/// assert_eq!(default.max_attempts, 5);
/// assert_eq!(default.initial_backoff, Duration::from_secs(1));
/// // One attempt, no retry: for a sidecar collector on the same host.
/// let no_retries = RetryPolicy { max_attempts: 1, ..default };
/// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_SDK_DISABLED", "true")])
///     .retry_policy(no_retries);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_backoff: Duration,
    /// Longest delay between two attempts.
    pub max_backoff: Duration,
    /// Factor applied to the delay after each retry.
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    /// 5 attempts, 1 s growing by 1.5x up to 5 s, with jitter (the Java SDK's defaults).
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            multiplier: 1.5,
        }
    }
}

/// The outcome of one failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttemptError {
    /// Worth trying again, after `retry_after` if the server said so.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Trying again would fail the same way.
    Permanent(String),
    /// The collector refused the connection (nothing listens there): retried
    /// like a transient failure, except during shutdown. `cause` is the
    /// system's words for it.
    Refused { reason: String, cause: String },
}

/// Why [`RetryPolicy::run`] gave up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GaveUp {
    pub reason: String,
    /// The system's words when the last attempt's connection was refused.
    pub refused: Option<String>,
}

impl GaveUp {
    fn because(reason: String) -> Self {
        Self {
            reason,
            refused: None,
        }
    }
}

/// A failure to reach the collector: refused, or another transient failure.
pub(crate) fn unreachable(reason: String, e: &(dyn std::error::Error + 'static)) -> AttemptError {
    match refused_cause(e) {
        Some(cause) => AttemptError::Refused { reason, cause },
        None => AttemptError::Transient {
            reason,
            retry_after: None,
        },
    }
}

/// The system's words for a refused connection somewhere in `e`'s chain of
/// sources (hyper and tonic wrap the `io::Error` in their own errors).
pub(crate) fn refused_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some(io.to_string());
        }
        cur = err.source();
    }
    None
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails permanently or attempts run
    /// out; once `closing` is set, a refused connection ends it.
    pub(crate) async fn run<F, Fut>(&self, closing: &Closing, mut attempt: F) -> Result<(), GaveUp>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AttemptError>>,
    {
        let mut backoff = self.initial_backoff;
        let attempts = self.max_attempts.max(1);
        for n in 1..=attempts {
            let (reason, retry_after, refused) = match attempt().await {
                Ok(()) => return Ok(()),
                Err(AttemptError::Permanent(reason)) => return Err(GaveUp::because(reason)),
                Err(AttemptError::Transient {
                    reason,
                    retry_after,
                }) => (reason, retry_after, None),
                Err(AttemptError::Refused { reason, cause }) => (reason, None, Some(cause)),
            };
            if refused.is_some() && closing.is_set() {
                // Nothing listens there, and shutdown is waiting.
                return Err(GaveUp {
                    reason: format!("{reason} (not retried: shutting down)"),
                    refused,
                });
            }
            if n == attempts {
                return Err(GaveUp {
                    reason: format!("{reason} (gave up after {n} attempts)"),
                    refused,
                });
            }
            let delay = retry_after.unwrap_or_else(|| jitter(backoff));
            crate::diag::debug(format_args!(
                "export attempt {n} failed ({reason}); retrying in {delay:?}"
            ));
            if closing.is_set() {
                // Shutting down already: the backoff holds (the shutdown
                // deadline bounds it).
                tokio::time::sleep(delay).await;
            } else {
                // Shutdown beginning during the wait cuts it short: one
                // attempt right away.
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = closing.wait() => {}
                }
            }
            backoff = Duration::try_from_secs_f64(backoff.as_secs_f64() * self.multiplier)
                .unwrap_or(self.max_backoff)
                .min(self.max_backoff);
        }
        Err(GaveUp::because("no attempt was made".to_owned()))
    }
}

/// A uniformly random delay between half and all of `backoff`.
fn jitter(backoff: Duration) -> Duration {
    Duration::try_from_secs_f64(backoff.as_secs_f64() * (0.5 + rand::random::<f64>() * 0.5))
        .unwrap_or(backoff)
}

/// HTTP statuses the specification calls retryable.
#[cfg(any(feature = "http-proto", feature = "http-json"))]
pub(crate) fn http_status_is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
#[cfg(any(feature = "http-proto", feature = "http-json"))]
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// gRPC codes the specification calls retryable; `RESOURCE_EXHAUSTED` only
/// when the server sent `RetryInfo`.
#[cfg(feature = "grpc")]
pub(crate) fn grpc_code_is_transient(code: tonic::Code, has_retry_info: bool) -> bool {
    use tonic::Code::*;
    match code {
        Cancelled | DeadlineExceeded | Aborted | OutOfRange | Unavailable | DataLoss => true,
        ResourceExhausted => has_retry_info,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[cfg(any(feature = "http-proto", feature = "http-json"))]
    #[test]
    fn classification_follows_the_spec() {
        for s in [429, 502, 503, 504] {
            assert!(http_status_is_transient(s));
        }
        for s in [400, 401, 403, 404, 413, 500, 501] {
            assert!(!http_status_is_transient(s));
        }
    }

    #[cfg(feature = "grpc")]
    #[test]
    fn grpc_classification_follows_the_spec() {
        assert!(grpc_code_is_transient(tonic::Code::Unavailable, false));
        assert!(!grpc_code_is_transient(
            tonic::Code::ResourceExhausted,
            false
        ));
        assert!(grpc_code_is_transient(tonic::Code::ResourceExhausted, true));
        assert!(!grpc_code_is_transient(tonic::Code::InvalidArgument, false));
        assert!(!grpc_code_is_transient(tonic::Code::Unauthenticated, false));
    }

    #[cfg(any(feature = "http-proto", feature = "http-json"))]
    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_with_growing_delays_permanent_ones_not() {
        let policy = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let open = Closing::default();
        let r = policy
            .run(&open, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(AttemptError::Transient {
                        reason: "503".into(),
                        retry_after: None,
                    })
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert!(r.is_err_and(|e| e.reason.contains("gave up after 5 attempts")));
        // Delays: >= 0.5 + 0.75 + 1.125 + 1.6875 s.
        assert!(start.elapsed() >= Duration::from_millis(4060));

        calls.store(0, Ordering::SeqCst);
        let r = policy
            .run(&open, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(AttemptError::Permanent("400".into())) }
            })
            .await;
        assert_eq!(
            (calls.load(Ordering::SeqCst), r),
            (1, Err(GaveUp::because("400".to_owned())))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_overrides_backoff() {
        let policy = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let r = policy
            .run(&Closing::default(), || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        Err(AttemptError::Transient {
                            reason: "429".into(),
                            retry_after: Some(Duration::from_secs(7)),
                        })
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
        assert!(r.is_ok());
        assert_eq!(start.elapsed().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_backoff_and_a_refused_connection_is_given_up_at_once() {
        let policy = RetryPolicy::default();
        let closing = std::sync::Arc::new(Closing::default());
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let refused = || AttemptError::Refused {
            reason: "cannot reach the collector".into(),
            cause: "Connection refused (os error 111)".into(),
        };
        // Shutdown begins 100 ms into the first backoff (0.5 to 1 s).
        let begin = {
            let closing = closing.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                closing.begin();
            })
        };
        let r = policy
            .run(&closing, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(refused()) }
            })
            .await;
        begin.await.expect("task");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one more attempt, no more");
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        let gave_up = r.expect_err("refused");
        assert_eq!(
            gave_up.refused.as_deref(),
            Some("Connection refused (os error 111)")
        );
        assert!(gave_up.reason.contains("shutting down"), "{gave_up:?}");

        // Once closing, a refused connection is not retried at all.
        calls.store(0, Ordering::SeqCst);
        let r = policy
            .run(&closing, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(refused()) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_refused_connection_is_found_in_the_chain_of_sources() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(refused_cause(&refused).is_some());
        let reset = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(refused_cause(&reset), None);
    }
}
