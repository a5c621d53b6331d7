//! The project's policy for tests that need something outside the process:
//! when it is missing, a local run skips the test with a clear message, a CI
//! run (`CI=true`) fails it.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long [`require_service`] waits for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Whether this is a CI run: the `CI` environment variable is `true` or `1`
/// (case-insensitive).
///
/// ```
/// let on_ci = otel_testing::is_ci();
/// assert_eq!(on_ci, std::env::var("CI").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true") || v.trim() == "1"));
/// ```
pub fn is_ci() -> bool {
    std::env::var("CI")
        .map(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("true") || v == "1"
        })
        .unwrap_or(false)
}

/// Applies the policy to a missing requirement: panics with `what` and `hint`
/// on CI, else prints a skip message to stderr.
pub(crate) fn missing(what: &str, hint: &str) {
    if is_ci() {
        panic!("{what}: {hint} (CI=true, so this test may not be skipped)");
    }
    eprintln!("SKIPPED: {what}: {hint} (on CI, with CI=true, this fails the test)");
}

/// Checks that the TCP service `name` (e.g. `"PostgreSQL"`) accepts
/// connections at `addr` (e.g. `"127.0.0.1:5432"`), trying for at most half a
/// second per resolved address.
///
/// Returns true when it does. When it does not: panics if `CI=true`,
/// otherwise prints a skip message to stderr and returns false, so the test
/// can `return` early:
///
/// ```
/// # fn main() {
/// if !otel_testing::require_service("PostgreSQL", "127.0.0.1:5432") {
///     return; // "SKIPPED: PostgreSQL not reachable at 127.0.0.1:5432: ..." on stderr
/// }
/// // ... the test proper
/// # }
/// ```
pub fn require_service(name: &str, addr: &str) -> bool {
    let reachable = addr
        .to_socket_addrs()
        .map(|mut addrs| addrs.any(|a| TcpStream::connect_timeout(&a, CONNECT_TIMEOUT).is_ok()))
        .unwrap_or(false);
    if !reachable {
        missing(
            &format!("{name} not reachable at {addr}"),
            &format!("start {name} there to run this test"),
        );
    }
    reachable
}

/// Checks that `python3` can import every module in `modules` (e.g. the
/// OpenTelemetry Python SDK, `opentelemetry.sdk`), for tests that run a Python
/// peer. The same policy as [`require_service`]: panics if `CI=true`,
/// otherwise prints a skip message naming `install` and returns false.
///
/// ```
/// # fn main() {
/// if !otel_testing::require_python_modules(&["json", "http.server"], "any python3") {
///     return; // "SKIPPED: python3 cannot import json, http.server: install any python3 ..."
/// }
/// // ... the test proper
/// # }
/// ```
pub fn require_python_modules(modules: &[&str], install: &str) -> bool {
    let script = format!("import {}", modules.join(", "));
    let ok = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        missing(
            &format!("python3 cannot import {}", modules.join(", ")),
            &format!("install {install} to run this test"),
        );
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachable_service_is_required_fine() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr").to_string();
        assert!(require_service("test listener", &addr));
    }

    #[test]
    fn missing_service_skips_or_panics_on_ci() {
        // A port that was just free: nothing listens there.
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            listener.local_addr().expect("local addr").to_string()
        };
        let result = std::panic::catch_unwind(|| require_service("nothing", &addr));
        if is_ci() {
            assert!(result.is_err(), "must panic on CI");
        } else {
            assert_eq!(result.ok(), Some(false));
        }
    }
}
