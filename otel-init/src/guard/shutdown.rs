//! The shutdown sequence's helpers: the providers shut down in parallel under
//! one deadline, the collectors' problems, and the report's wording.

use super::*;

/// Shuts the three providers down at the same time, each on its own thread
/// and all under the one `deadline`, waited for until `wait_until` at the
/// latest: a provider that waits for a collector
/// does not use up the others' time, and a provider that blocks (the SDK's
/// metric reader waits up to 5 s whatever it is told) is left behind at the
/// deadline. Returns whether all finished in time, and their errors.
pub(super) fn shut_down_providers(
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
    logger: Option<SdkLoggerProvider>,
    deadline: Instant,
    wait_until: Instant,
) -> (bool, Vec<String>) {
    type Job = Box<dyn FnOnce(Duration) -> OTelSdkResult + Send>;
    let mut jobs: Vec<(&str, Job)> = Vec::new();
    if let Some(t) = tracer {
        jobs.push((
            "traces",
            Box::new(move |left| t.shutdown_with_timeout(left)),
        ));
    }
    if let Some(m) = meter {
        jobs.push((
            "metrics",
            Box::new(move |left| m.shutdown_with_timeout(left)),
        ));
    }
    if let Some(l) = logger {
        jobs.push(("logs", Box::new(move |left| l.shutdown_with_timeout(left))));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let mut pending: Vec<&str> = Vec::new();
    let mut errors = Vec::new();
    let mut spawn_failed = false;
    for (signal, job) in jobs {
        let tx = tx.clone();
        // On threads of their own, so that the deadline holds even if a
        // provider blocks, and so that a current-thread runtime calling us is
        // never asked to drive the export.
        let spawned = std::thread::Builder::new()
            .name(format!("otel-shutdown-{signal}"))
            .spawn(move || {
                let result = job(deadline.saturating_duration_since(Instant::now()));
                let _ = tx.send((signal, result));
            });
        match spawned {
            Ok(_) => pending.push(signal),
            Err(e) => {
                spawn_failed = true;
                errors.push(format!("{signal}: cannot start a shutdown thread: {e}"));
            }
        }
    }
    drop(tx);
    let mut timed_out = false;
    while !pending.is_empty() {
        let left = wait_until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((signal, result)) => {
                pending.retain(|s| *s != signal);
                timed_out |= matches!(result, Err(OTelSdkError::Timeout(_)));
                errors.extend(failures([(signal, Some(result))]));
            }
            Err(_) => break,
        }
    }
    // Finished: every provider returned in time (an export that failed
    // at once is an error, not a timeout).
    let completed = pending.is_empty() && !timed_out && !spawn_failed;
    for signal in pending {
        errors.push(format!("{signal}: did not finish before the deadline"));
    }
    (completed, errors)
}

/// What went wrong between the exporters and the collector once shutdown
/// had begun, one line per kind of failure, naming the endpoints (user-info
/// redacted) and the cause.
pub(super) fn collector_problems(clients: &[Arc<OtlpClient>], timeout: Duration) -> Vec<String> {
    // Per kind of failure, the endpoints and, per endpoint, its signals.
    type Endpoints<'a> = Vec<(&'a str, Vec<&'static str>)>;
    let mut groups: Vec<(String, Endpoints<'_>)> = Vec::new();
    for client in clients {
        let Some(failure) = client.failure_at_close() else {
            continue;
        };
        let what = match failure {
            CloseFailure::Refused(cause) => format!("refused the connection ({cause})"),
            CloseFailure::Failed(reason) => format!("failed: {reason}"),
            CloseFailure::NoAnswer => {
                format!("did not answer within the shutdown timeout of {timeout:?}")
            }
        };
        let (endpoint, signal) = (client.endpoint(), signal_name(client));
        let endpoints = match groups.iter_mut().find(|(w, _)| *w == what) {
            Some((_, endpoints)) => endpoints,
            None => {
                groups.push((what, Vec::new()));
                match groups.last_mut() {
                    Some((_, endpoints)) => endpoints,
                    None => continue,
                }
            }
        };
        match endpoints.iter_mut().find(|(e, _)| *e == endpoint) {
            Some((_, signals)) => signals.push(signal),
            None => endpoints.push((endpoint, vec![signal])),
        }
    }
    groups
        .into_iter()
        .map(|(what, endpoints)| {
            let at: Vec<String> = endpoints
                .iter()
                .map(|(e, signals)| format!("{e} ({})", signals.join(", ")))
                .collect();
            format!("the collector at {} {what}", at.join(", "))
        })
        .collect()
}

fn signal_name(client: &OtlpClient) -> &'static str {
    match client.signal() {
        crate::config::Signal::Traces => "traces",
        crate::config::Signal::Metrics => "metrics",
        crate::config::Signal::Logs => "logs",
    }
}

/// The one warning of a shutdown that lost something or went wrong. When
/// the collector's failure is known, the providers' own errors (which only
/// repeat it) are left out.
pub(super) fn describe_shutdown(
    completed: bool,
    elapsed: Duration,
    export: &ExportReport,
    collector: &[String],
    errors: &[String],
) -> String {
    let mut parts = vec![format!(
        "not delivered: {}, {}, {}",
        count(export.traces.lost(), "span", "spans"),
        count(export.metrics.lost(), "metric point", "metric points"),
        count(export.logs.lost(), "log record", "log records"),
    )];
    parts.extend(collector.iter().cloned());
    if collector.is_empty() {
        parts.extend(errors.iter().cloned());
    } else {
        // Still say when the export thread or the log output got stuck.
        parts.extend(errors.iter().filter(|e| !is_provider_error(e)).cloned());
    }
    format!(
        "telemetry shutdown {} in {elapsed:.1?}; {}",
        if completed {
            "finished"
        } else {
            "gave up at its deadline"
        },
        parts.join("; ")
    )
}

fn is_provider_error(e: &str) -> bool {
    ["traces: ", "metrics: ", "logs: "]
        .iter()
        .any(|p| e.starts_with(p))
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "signal: error" for each provider whose operation failed.
pub(super) fn failures<'a>(
    results: impl IntoIterator<Item = (&'a str, Option<OTelSdkResult>)>,
) -> Vec<String> {
    results
        .into_iter()
        .filter_map(|(signal, result)| match result {
            Some(Err(e)) => Some(format!("{signal}: {e}")),
            _ => None,
        })
        .collect()
}
