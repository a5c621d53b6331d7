//! A harness for the real [rotel](https://pypi.org/project/rotel/)
//! OpenTelemetry collector (`pip install rotel`; the wheel ships the
//! `rotel-agent` binary inside the Python package).
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), String> {
//! use otel_testing::{OtlpReceiver, Rotel, require_rotel};
//!
//! if require_rotel().is_none() {
//!     return Ok(()); // skipped (this panics instead on CI)
//! }
//! let receiver = OtlpReceiver::start().await.map_err(|e| e.to_string())?;
//! let rotel = Rotel::start_forwarding_to(&receiver.grpc_endpoint())?;
//! // Export to rotel.grpc_endpoint() or rotel.http_endpoint(); the data
//! // shows up at the receiver about 100 ms later.
//! assert!(rotel.grpc_endpoint().starts_with("http://127.0.0.1:"));
//! # Ok(()) }
//! ```

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::require::skip;

/// Name of the collector binary.
const BINARY: &str = "rotel-agent";
/// Environment variable naming the binary explicitly.
const BINARY_ENV: &str = "ROTEL_AGENT";
/// How long rotel gets to open its ports.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How often to retry with fresh ports when rotel lost a port race.
const START_TRIES: usize = 3;

/// A running `rotel-agent` child process, receiving OTLP on two loopback
/// ports. Dropping it kills the process (and waits for it), so no test leaves
/// a collector running; when dropped during a panic it prints its log to
/// stderr first.
///
/// `rotel-agent start` without `--daemon` does not fork: the child spawned here
/// is the collector itself.
///
/// ```
/// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
/// # use prost::Message as _;
/// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
/// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
/// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
/// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
/// #     let mut response = Vec::new();
/// #     tcp.read_to_end(&mut response).await.unwrap();
/// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
/// # }
/// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
/// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
/// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
/// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
/// # }
/// # #[tokio::main]
/// # async fn main() {
/// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
/// use otel_testing::{OtlpReceiver, Rotel};
/// use std::time::Duration;
///
/// let receiver = OtlpReceiver::start().await.unwrap();
/// let rotel = Rotel::start_forwarding_to(&receiver.grpc_endpoint()).unwrap();
/// send_span(rotel.http_addr(), "checkout").await;
/// assert!(receiver.wait_for_span("checkout", Duration::from_secs(10)).await.is_some());
/// drop(rotel); // kills the collector
/// # }
/// ```
#[derive(Debug)]
pub struct Rotel {
    child: Child,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    dir: PathBuf,
    output: PathBuf,
    log_file: PathBuf,
}

impl Rotel {
    /// Locates `rotel-agent`: the `ROTEL_AGENT` environment variable if set
    /// (it must name an existing file), else the binary inside the installed
    /// `rotel` Python package (`python3 -c "import rotel"`), else
    /// `rotel-agent` on `PATH`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let path = otel_testing::Rotel::find().expect("require_rotel() found it");
    /// assert!(path.ends_with("rotel-agent"));
    /// # }
    /// ```
    pub fn find() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(BINARY_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            return path.is_file().then_some(path);
        }
        static FROM_PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
        FROM_PYTHON
            .get_or_init(find_in_python_package)
            .clone()
            .or_else(find_on_path)
    }

    /// Starts rotel exporting everything over OTLP/gRPC to
    /// `receiver_grpc_endpoint` (e.g.
    /// [`OtlpReceiver::grpc_endpoint`](crate::OtlpReceiver::grpc_endpoint)),
    /// batching for at most 100 ms.
    ///
    /// Blocks (without a runtime) until rotel accepts connections on both
    /// ports, which takes some tens of milliseconds, at most 15 s; see
    /// [`start_with_args`](Self::start_with_args).
    ///
    /// ```
    /// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
    /// # use prost::Message as _;
    /// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    /// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
    /// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    /// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    /// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
    /// #     let mut response = Vec::new();
    /// #     tcp.read_to_end(&mut response).await.unwrap();
    /// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
    /// # }
    /// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
    /// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
    /// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
    /// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
    /// # }
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// use otel_testing::{OtlpReceiver, Rotel};
    /// use std::time::Duration;
    ///
    /// let receiver = OtlpReceiver::start().await.unwrap();
    /// let rotel = Rotel::start_forwarding_to(&receiver.grpc_endpoint()).unwrap();
    /// assert_eq!(send_span(rotel.http_addr(), "through rotel").await, 200);
    /// assert!(receiver.wait_for_span("through rotel", Duration::from_secs(10)).await.is_some());
    /// # }
    /// ```
    pub fn start_forwarding_to(receiver_grpc_endpoint: &str) -> Result<Rotel, String> {
        Self::start_with_args(&[
            "--exporter",
            "otlp",
            "--otlp-exporter-endpoint",
            receiver_grpc_endpoint,
            "--otlp-exporter-protocol",
            "grpc",
            "--batch-timeout",
            "100ms",
        ])
    }

    /// Starts `rotel-agent start` with `args` (exporter and batching flags)
    /// plus the harness's own: `--otlp-grpc-endpoint` and
    /// `--otlp-http-endpoint` on two free loopback ports, and a `--pid-file`
    /// and `--log-file` in a fresh temporary directory. Output goes to a file
    /// there (see [`log`](Self::log)); `ROTEL_*` variables are removed from
    /// its environment and `NO_COLOR=1` set.
    ///
    /// Waits until both ports accept TCP connections; on failure (binary
    /// missing, early exit, 15 s timeout) the process is killed and the error
    /// holds its log. Retries with fresh ports when rotel lost a race for a
    /// port.
    ///
    /// ```
    /// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
    /// # use prost::Message as _;
    /// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    /// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
    /// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    /// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    /// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
    /// #     let mut response = Vec::new();
    /// #     tcp.read_to_end(&mut response).await.unwrap();
    /// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
    /// # }
    /// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
    /// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
    /// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
    /// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
    /// # }
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// use otel_testing::Rotel;
    ///
    /// let mut rotel = Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// assert!(rotel.is_running());
    /// assert_eq!(send_span(rotel.http_addr(), "dropped by the collector").await, 200);
    /// # }
    /// ```
    pub fn start_with_args(args: &[&str]) -> Result<Rotel, String> {
        let binary = Self::find()
            .ok_or_else(|| format!("rotel not found: pip install rotel (or set {BINARY_ENV})"))?;
        let mut last_error = String::new();
        for _ in 0..START_TRIES {
            match start_once(&binary, args)? {
                Ok(rotel) => return Ok(rotel),
                Err(port_taken) => last_error = port_taken,
            }
        }
        Err(last_error)
    }

    /// Where rotel receives OTLP/gRPC: `http://127.0.0.1:PORT`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// // e.g. OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=<this>
    /// assert_eq!(rotel.grpc_endpoint(), format!("http://{}", rotel.grpc_addr()));
    /// # }
    /// ```
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// Where rotel receives OTLP/HTTP: `http://127.0.0.1:PORT` (append
    /// `/v1/traces` etc.).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// // e.g. OTEL_EXPORTER_OTLP_ENDPOINT=<this> (http/protobuf appends /v1/traces)
    /// assert_eq!(rotel.http_endpoint(), format!("http://{}", rotel.http_addr()));
    /// # }
    /// ```
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The OTLP/gRPC listen address.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// assert!(rotel.grpc_addr().ip().is_loopback());
    /// assert!(std::net::TcpStream::connect(rotel.grpc_addr()).is_ok());
    /// # }
    /// ```
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The OTLP/HTTP listen address.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// assert!(rotel.http_addr().ip().is_loopback());
    /// assert!(std::net::TcpStream::connect(rotel.http_addr()).is_ok());
    /// # }
    /// ```
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The process id of the collector.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// assert!(rotel.pid() > 0);
    /// # }
    /// ```
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the collector process is still running.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let mut rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// assert!(rotel.is_running());
    /// # }
    /// ```
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything the collector logged so far (stdout, stderr and its
    /// `--log-file`, if it wrote one).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// println!("{}", rotel.log()); // what rotel said at start-up, for a failing test's output
    /// # }
    /// ```
    pub fn log(&self) -> String {
        read_log(&self.output, &self.log_file)
    }

    /// Stops the collector with SIGTERM, letting it flush its batches, and
    /// waits up to `timeout` for it to exit; kills it after that. Returns
    /// whether it exited by itself in time.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// let Some(_) = otel_testing::require_rotel() else { return }; // skipped locally without rotel
    /// use std::time::Duration;
    ///
    /// let rotel = otel_testing::Rotel::start_with_args(&["--exporter", "blackhole"]).unwrap();
    /// assert!(rotel.stop_gracefully(Duration::from_secs(10)));
    /// # }
    /// ```
    pub fn stop_gracefully(mut self, timeout: Duration) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            return false;
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- rotel-agent log (pid {}) ----\n{}\n---- end of rotel-agent log ----",
                self.child.id(),
                self.log()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Applies the project's policy when rotel is needed: returns its path if it
/// is installed; otherwise panics on CI (`CI=true`) with "rotel not found: pip
/// install rotel", or prints a skip message to stderr and returns `None` so
/// the test can return early.
///
/// ```
/// // #[test]
/// fn spans_reach_the_collector() {
///     let Some(_rotel_binary) = otel_testing::require_rotel() else {
///         return; // "SKIPPED: rotel not found: pip install rotel ..." on stderr
///     };
///     // ... start Rotel, export, assert
/// }
/// # spans_reach_the_collector();
/// ```
pub fn require_rotel() -> Option<PathBuf> {
    let found = Rotel::find();
    if found.is_none() {
        skip(
            "rotel not found",
            &format!("pip install rotel (or set {BINARY_ENV} to the rotel-agent binary)"),
        );
    }
    found
}

fn find_in_python_package() -> Option<PathBuf> {
    const SCRIPT: &str = "import rotel, os; print(os.path.dirname(rotel.__file__))";
    ["python3", "python"].iter().find_map(|python| {
        let output = Command::new(python)
            .args(["-c", SCRIPT])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let dir = String::from_utf8(output.stdout).ok()?;
        let path = Path::new(dir.trim()).join(BINARY);
        path.is_file().then_some(path)
    })
}

fn find_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(BINARY))
        .find(|candidate| candidate.is_file())
}

/// Two distinct loopback ports that were free a moment ago.
fn free_ports() -> Result<(u16, u16), String> {
    let bind = || {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot bind a loopback port: {e}"))
    };
    let (a, b) = (bind()?, bind()?);
    let port = |l: &TcpListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("cannot read a bound port: {e}"))
    };
    Ok((port(&a)?, port(&b)?))
}

/// A fresh, unique temporary directory.
fn temp_dir() -> Result<PathBuf, String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "otel-testing-rotel-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn read_log(output: &Path, log_file: &Path) -> String {
    let mut log = std::fs::read_to_string(output).unwrap_or_default();
    if let Ok(extra) = std::fs::read_to_string(log_file) {
        log.push_str(&extra);
    }
    log
}

fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// One start attempt. The outer error is final; the inner one means rotel
/// lost a port race and a retry with other ports may work.
fn start_once(binary: &Path, args: &[&str]) -> Result<Result<Rotel, String>, String> {
    let (grpc_port, http_port) = free_ports()?;
    let grpc_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, grpc_port));
    let http_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
    let dir = temp_dir()?;
    let output = dir.join("output.log");
    let log_file = dir.join("rotel-agent.log");
    let pid_file = dir.join("rotel-agent.pid");
    let stdout =
        File::create(&output).map_err(|e| format!("cannot create {}: {e}", output.display()))?;
    let stderr = stdout
        .try_clone()
        .map_err(|e| format!("cannot duplicate a file handle: {e}"))?;

    let mut command = Command::new(binary);
    command
        .arg("start")
        .arg("--otlp-grpc-endpoint")
        .arg(grpc_addr.to_string())
        .arg("--otlp-http-endpoint")
        .arg(http_addr.to_string())
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--log-file")
        .arg(&log_file)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .env("NO_COLOR", "1");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROTEL_") {
            command.env_remove(name);
        }
    }
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut rotel = Rotel {
        child,
        grpc_addr,
        http_addr,
        dir,
        output,
        log_file,
    };

    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match rotel.child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => {
                let log = rotel.log();
                let error =
                    format!("rotel-agent exited during startup ({status}); its log:\n{log}");
                let port_taken = log.contains("in use");
                return if port_taken {
                    Ok(Err(error))
                } else {
                    Err(error)
                };
            }
            Err(e) => return Err(format!("cannot check on rotel-agent: {e}")),
        }
        if accepts(grpc_addr) && accepts(http_addr) {
            // Someone else may have taken a port and rotel be about to exit:
            // give it a moment to do so before calling it ready.
            std::thread::sleep(Duration::from_millis(30));
            if matches!(rotel.child.try_wait(), Ok(None)) {
                return Ok(Ok(rotel));
            }
            continue;
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "rotel-agent did not open {grpc_addr} and {http_addr} within {START_TIMEOUT:?}; its log:\n{}",
                rotel.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
