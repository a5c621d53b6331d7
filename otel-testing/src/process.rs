//! Tests that run a program as a child process: a binary of the workspace
//! (an example service), or this very test binary again, so that code which
//! installs process-wide state (`otel_init::init()`'s global subscriber, signal
//! handlers) runs in a process of its own.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Builds the binaries `bins` of the workspace package `package` into the
/// directory and profile of the running test (a no-op when they are up to
/// date) and returns their paths, in the order of `bins`.
///
/// Panics when the build fails or a binary is not where it should be: the
/// test cannot go on without it.
///
/// ```no_run
/// // In a test of the workspace:
/// let [quickstart] = otel_testing::workspace_binaries("quickstart", ["quickstart"]);
/// let status = std::process::Command::new(quickstart)
///     .env("QUICKSTART_ADDR", "127.0.0.1:0")
///     .env("QUICKSTART_EXIT_AFTER_DEMO", "1")
///     .status()
///     .expect("run the example");
/// assert!(status.success());
/// ```
pub fn workspace_binaries<const N: usize>(package: &str, bins: [&str; N]) -> [PathBuf; N] {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    // target/<profile>/deps/<the test> -> target/<profile>/: build into the
    // same directory, with the same profile, as the test.
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .expect("target/<profile>");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "-p", package])
        .current_dir(&workspace);
    for bin in bins {
        build.args(["--bin", bin]);
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build
        .status()
        .unwrap_or_else(|e| panic!("cargo build -p {package}: {e}"));
    assert!(status.success(), "building {package} failed");
    bins.map(|bin| {
        let path = profile_dir.join(bin);
        assert!(path.exists(), "{bin} is not in {}", profile_dir.display());
        path
    })
}

/// Whether this process is the child that [`rerun_test`] started with
/// `marker` set.
///
/// ```
/// assert!(!otel_testing::is_child_run("NO_SUCH_MARKER_VARIABLE"));
/// ```
pub fn is_child_run(marker: &str) -> bool {
    std::env::var_os(marker).is_some()
}

/// Runs the test `test` of the running test binary again, alone, in a child
/// process with `marker=1`, the given environment, and none of the parent's
/// `OTEL_*` and `RUST_LOG` variables; returns what it printed. The child test
/// checks [`is_child_run`] and does its work only there.
///
/// ```no_run
/// const CHILD: &str = "MY_TEST_CHILD";
///
/// #[test]
/// fn child_process() {
///     if !otel_testing::is_child_run(CHILD) {
///         return;
///     }
///     // let _guard = otel_init::init_telemetry().expect("init"); ...
/// }
///
/// #[test]
/// fn init_writes_json_lines() {
///     let out = otel_testing::rerun_test("child_process", CHILD, &[("OTEL_INIT_LOG_FORMAT", "json")]);
///     assert!(out.status.success());
/// }
/// ```
pub fn rerun_test(test: &str, marker: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("OTEL_") || key == "RUST_LOG" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.env(marker, "1");
    cmd.envs(env.iter().copied());
    cmd.output()
        .unwrap_or_else(|e| panic!("run the test {test} as a child: {e}"))
}
