//! Retries per the OTLP exporter specification: only transient failures,
//! exponential backoff with jitter, and the server's `Retry-After` /
//! `RetryInfo` when it gives one. The batch deadline of the pipeline bounds
//! the whole loop.

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
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails permanently or attempts run out.
    pub(crate) async fn run<F, Fut>(&self, mut attempt: F) -> Result<(), String>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AttemptError>>,
    {
        let mut backoff = self.initial_backoff;
        let attempts = self.max_attempts.max(1);
        for n in 1..=attempts {
            match attempt().await {
                Ok(()) => return Ok(()),
                Err(AttemptError::Permanent(reason)) => return Err(reason),
                Err(AttemptError::Transient {
                    reason,
                    retry_after,
                }) => {
                    if n == attempts {
                        return Err(format!("{reason} (gave up after {n} attempts)"));
                    }
                    let delay = retry_after.unwrap_or_else(|| jitter(backoff));
                    crate::diag::debug(format_args!(
                        "export attempt {n} failed ({reason}); retrying in {delay:?}"
                    ));
                    tokio::time::sleep(delay).await;
                    backoff = Duration::try_from_secs_f64(backoff.as_secs_f64() * self.multiplier)
                        .unwrap_or(self.max_backoff)
                        .min(self.max_backoff);
                }
            }
        }
        Err("no attempt was made".to_owned())
    }
}

/// A uniformly random delay between half and all of `backoff`.
fn jitter(backoff: Duration) -> Duration {
    Duration::try_from_secs_f64(backoff.as_secs_f64() * (0.5 + rand::random::<f64>() * 0.5))
        .unwrap_or(backoff)
}

/// HTTP statuses the specification calls retryable.
pub(crate) fn http_status_is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
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

    #[test]
    fn classification_follows_the_spec() {
        for s in [429, 502, 503, 504] {
            assert!(http_status_is_transient(s));
        }
        for s in [400, 401, 403, 404, 413, 500, 501] {
            assert!(!http_status_is_transient(s));
        }
        assert!(grpc_code_is_transient(tonic::Code::Unavailable, false));
        assert!(!grpc_code_is_transient(
            tonic::Code::ResourceExhausted,
            false
        ));
        assert!(grpc_code_is_transient(tonic::Code::ResourceExhausted, true));
        assert!(!grpc_code_is_transient(tonic::Code::InvalidArgument, false));
        assert!(!grpc_code_is_transient(tonic::Code::Unauthenticated, false));
    }

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
        let r = policy
            .run(|| {
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
        assert!(r.is_err_and(|e| e.contains("gave up after 5 attempts")));
        // Delays: >= 0.5 + 0.75 + 1.125 + 1.6875 s.
        assert!(start.elapsed() >= Duration::from_millis(4060));

        calls.store(0, Ordering::SeqCst);
        let r = policy
            .run(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(AttemptError::Permanent("400".into())) }
            })
            .await;
        assert_eq!(
            (calls.load(Ordering::SeqCst), r),
            (1, Err("400".to_owned()))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_overrides_backoff() {
        let policy = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let r = policy
            .run(|| {
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
}
