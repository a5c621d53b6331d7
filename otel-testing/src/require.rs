//! The project's policy for tests that need something outside the process:
//! when it is missing, a local run skips the test with a clear message, a CI
//! run (`CI=true`) fails it.

use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Tests of this process skipped so far.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Applies the policy to a missing requirement of the current test: panics
/// with `what` and `hint` on CI (`CI=true`); otherwise writes a `SKIPPED`
/// line and returns, so the test can `return` early.
///
/// The line goes straight to the process's standard error, past the test
/// harness's output capture (which shows a passing test's `eprintln!` output
/// only with `--nocapture`), so that `cargo test` shows it; it names the
/// test, what is missing, what to install, and how many tests of this test
/// binary were skipped so far.
///
/// ```
/// # fn main() {
/// let python_sdk_installed = false;
/// # if otel_testing::is_ci() { return; }
/// if !python_sdk_installed {
///     otel_testing::skip(
///         "the OpenTelemetry Python SDK is missing",
///         "pip install -r .ci/requirements.txt",
///     );
///     return;
/// }
/// # }
/// ```
pub fn skip(what: &str, hint: &str) {
    if is_ci() {
        panic!("{what}: {hint} (CI=true, so this test may not be skipped)");
    }
    let skipped = SKIPPED.fetch_add(1, Ordering::Relaxed) + 1;
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!(
        "SKIPPED {test}: {what}; to run it: {hint} ({skipped} skipped in this test binary; with CI=true this fails)\n"
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
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
        skip(
            &format!("{name} not reachable at {addr}"),
            &format!("start {name} there"),
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
        skip(
            &format!("python3 cannot import {}", modules.join(", ")),
            &format!("install {install}"),
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

    /// The `SKIPPED` line reaches the output of a plain `cargo test` run,
    /// whose harness captures what passing tests print with `eprintln!`.
    #[test]
    fn the_skip_line_is_visible_through_output_capture() {
        const CHILD: &str = "OTEL_TESTING_SKIP_CHILD";
        const NAME: &str = "require::tests::the_skip_line_is_visible_through_output_capture";
        if std::env::var_os(CHILD).is_some() {
            skip("the frobnicator is missing", "apt-get install frobnicator");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([NAME, "--exact", "--test-threads=1"])
            .env(CHILD, "1")
            .env_remove("CI")
            .output()
            .expect("run the child");
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "SKIPPED {NAME}: the frobnicator is missing; to run it: apt-get install frobnicator (1 skipped in this test binary; with CI=true this fails)"
            )),
            "stderr: {stderr}\nstdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    #[test]
    fn missing_service_skips_or_panics_on_ci() {
        // A port that was just free: nothing listens there.
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            listener.local_addr().expect("local addr").to_string()
        };
        let result = std::panic::catch_unwind(|| {
            require_service(
                "a service that is missing on purpose (this line is expected)",
                &addr,
            )
        });
        if is_ci() {
            assert!(result.is_err(), "must panic on CI");
        } else {
            assert_eq!(result.ok(), Some(false));
        }
    }
}
