//! A harness for a real [Prometheus](https://prometheus.io) server (Debian's
//! `prometheus` package, `/usr/bin/prometheus`): a child process with its own
//! temporary configuration and storage that scrapes one target every second,
//! queried through its HTTP API.
//!
//! ```
//! # fn main() -> Result<(), String> {
//! use otel_testing::{Prometheus, require_prometheus};
//! use std::time::Duration;
//!
//! if require_prometheus().is_none() {
//!     return Ok(()); // skipped (this panics instead on CI)
//! }
//! // A target: anything that serves /metrics (here a fixed text).
//! let target = otel_testing::prometheus::serve_fixed("# TYPE up_total counter\nup_total 1\n");
//! let prometheus = Prometheus::start(target)?;
//! let series = prometheus.wait_for("up_total", Duration::from_secs(30), |r| !r.is_empty())?;
//! assert_eq!(series[0]["value"][1], "1");
//! # Ok(()) }
//! ```

use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::require::skip;

/// Where Debian's package puts the server.
const DEBIAN_BINARY: &str = "/usr/bin/prometheus";
/// How long the server gets to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often to retry with a fresh port when the server lost a port race.
const START_TRIES: usize = 3;

/// Finds the `prometheus` server; when it is missing and this process runs as
/// root on a system with `apt-get`, installs Debian's `prometheus` package
/// first (once per process). Still missing: on CI (`CI=true`) it panics,
/// locally it prints a `SKIPPED` line and returns `None`.
///
/// ```
/// if let Some(binary) = otel_testing::require_prometheus() {
///     assert!(binary.ends_with("prometheus"));
/// }
/// ```
pub fn require_prometheus() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = FOUND
        .get_or_init(|| Prometheus::find().or_else(|| install().then(Prometheus::find).flatten()))
        .clone();
    if found.is_none() {
        skip(
            "the Prometheus server is missing",
            "apt-get install prometheus (Debian's package; .ci/run installs it)",
        );
    }
    found
}

/// `apt-get install prometheus`, as root only; true when it succeeded.
fn install() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        return false;
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let install = [
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "prometheus",
    ];
    apt(&install) || (apt(&["update", "-q"]) && apt(&install))
}

/// A running Prometheus server scraping one target every second, on a free
/// loopback port, with its configuration, storage and log in a fresh
/// temporary directory. Dropping it kills the process, waits for it and
/// removes the directory; dropped during a panic, it prints its log first.
///
/// ```no_run
/// # fn main() -> Result<(), String> {
/// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
/// let target = otel_testing::prometheus::serve_fixed("# TYPE g gauge\ng 2\n");
/// let prometheus = otel_testing::Prometheus::start(target)?;
/// assert!(prometheus.address().ip().is_loopback());
/// drop(prometheus); // kills the server
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Prometheus {
    child: Child,
    address: SocketAddr,
    dir: PathBuf,
}

impl Prometheus {
    /// The server binary: `/usr/bin/prometheus`, else `prometheus` on `PATH`.
    ///
    /// ```
    /// if let Some(path) = otel_testing::Prometheus::find() {
    ///     assert!(path.is_file());
    /// }
    /// ```
    pub fn find() -> Option<PathBuf> {
        let debian = PathBuf::from(DEBIAN_BINARY);
        if debian.is_file() {
            return Some(debian);
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("prometheus"))
                .find(|p| p.is_file())
        })
    }

    /// Starts a server that scrapes `target` (`http://<target>/metrics`) every
    /// second, as job `service`, and waits until it is ready (`/-/ready`, at
    /// most 30 s).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let target = otel_testing::prometheus::serve_fixed("# TYPE g gauge\ng 2\n");
    /// let prometheus = otel_testing::Prometheus::start(target)?;
    /// let up = prometheus.wait_for("up == 1", std::time::Duration::from_secs(30), |r| !r.is_empty())?;
    /// assert_eq!(up[0]["metric"]["job"], "service");
    /// # Ok(()) }
    /// ```
    pub fn start(target: SocketAddr) -> Result<Prometheus, String> {
        Self::start_with(target, false)
    }

    /// [`start`](Self::start), with `--enable-feature=exemplar-storage` when
    /// `exemplar_storage` is true (for [`query_exemplars`](Self::query_exemplars)).
    ///
    /// ```
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let target = otel_testing::prometheus::serve_fixed("# TYPE g gauge\ng 2\n");
    /// let prometheus = otel_testing::Prometheus::start_with(target, true)?;
    /// assert!(prometheus.query_exemplars("g")?.is_empty()); // a gauge has none
    /// # Ok(()) }
    /// ```
    pub fn start_with(target: SocketAddr, exemplar_storage: bool) -> Result<Prometheus, String> {
        let binary =
            Self::find().ok_or("the Prometheus server is missing: apt-get install prometheus")?;
        let mut last_error = String::new();
        for _ in 0..START_TRIES {
            match start_once(&binary, target, exemplar_storage)? {
                Ok(prometheus) => return Ok(prometheus),
                Err(port_lost) => last_error = port_lost,
            }
        }
        Err(last_error)
    }

    /// The server's address (its web UI and API: `http://<address>/`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let prometheus = otel_testing::Prometheus::start(otel_testing::prometheus::serve_fixed(""))?;
    /// assert!(std::net::TcpStream::connect(prometheus.address()).is_ok());
    /// # Ok(()) }
    /// ```
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// An instant PromQL query (`/api/v1/query`): the `data.result` array.
    ///
    /// ```
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let prometheus = otel_testing::Prometheus::start(otel_testing::prometheus::serve_fixed(""))?;
    /// assert!(prometheus.query("no_such_metric")?.is_empty());
    /// assert!(prometheus.query("sum(").is_err()); // a bad query: the server's error
    /// # Ok(()) }
    /// ```
    pub fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        self.api(&format!("/api/v1/query?query={}", encode(promql)))
    }

    /// The exemplars of the series `promql` selects over the last hour
    /// (`/api/v1/query_exemplars`): the `data` array, one entry per series
    /// with its `exemplars`. Needs [`start_with(.., true)`](Self::start_with).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let prometheus = otel_testing::Prometheus::start_with(otel_testing::prometheus::serve_fixed(""), true)?;
    /// assert!(prometheus.query_exemplars("no_such_metric")?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn query_exemplars(&self, promql: &str) -> Result<Vec<Value>, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        self.api(&format!(
            "/api/v1/query_exemplars?query={}&start={}&end={}",
            encode(promql),
            now.saturating_sub(3600),
            now + 60
        ))
    }

    /// Runs `promql` every 200 ms until `until` accepts the result, for at
    /// most `timeout`; the last result, or an error with the server's log.
    ///
    /// ```
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let target = otel_testing::prometheus::serve_fixed("# TYPE g gauge\ng{route=\"/a\"} 2\n");
    /// let prometheus = otel_testing::Prometheus::start(target)?;
    /// let g = prometheus.wait_for("g", std::time::Duration::from_secs(30), |r| !r.is_empty())?;
    /// assert_eq!(g[0]["metric"]["route"], "/a");
    /// # Ok(()) }
    /// ```
    pub fn wait_for(
        &self,
        promql: &str,
        timeout: Duration,
        until: impl Fn(&[Value]) -> bool,
    ) -> Result<Vec<Value>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let result = self.query(promql)?;
            if until(&result) {
                return Ok(result);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{promql:?} did not give the expected result within {timeout:?}; last: {result:?}; targets: {}; log:\n{}",
                    self.targets(),
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The server's log so far.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), String> {
    /// let Some(_) = otel_testing::require_prometheus() else { return Ok(()) };
    /// let prometheus = otel_testing::Prometheus::start(otel_testing::prometheus::serve_fixed(""))?;
    /// assert!(prometheus.log().contains("Server is ready"));
    /// # Ok(()) }
    /// ```
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// What the server says about its scrape target (health, last error).
    fn targets(&self) -> String {
        get(self.address, "/api/v1/targets").map_or_else(|e| e, |(_, body)| body)
    }

    fn api(&self, path_and_query: &str) -> Result<Vec<Value>, String> {
        let (status, body) = get(self.address, path_and_query)?;
        let json: Value = serde_json::from_str(&body)
            .map_err(|e| format!("{path_and_query}: HTTP {status}, not JSON ({e}): {body}"))?;
        if json["status"] != "success" {
            return Err(format!("{path_and_query}: HTTP {status}: {body}"));
        }
        match &json["data"] {
            Value::Array(items) => Ok(items.clone()),
            data => Ok(data["result"].as_array().cloned().unwrap_or_default()),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- prometheus log ({}) ---\n{}",
                self.dir.display(),
                self.log()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `promtool check metrics` (next to the server, from the same
/// package) on `text` in the Prometheus text format: `Err` with promtool's
/// output when it finds a parsing error or a lint problem.
///
/// ```
/// let Some(_) = otel_testing::require_prometheus() else { return };
/// use otel_testing::prometheus::check_metrics;
/// assert!(check_metrics("# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 3\n").is_ok());
/// assert!(check_metrics("jobs_total{ 3\n").is_err());
/// ```
pub fn check_metrics(text: &str) -> Result<(), String> {
    let promtool = Prometheus::find()
        .and_then(|p| p.parent().map(|dir| dir.join("promtool")))
        .filter(|p| p.is_file())
        .ok_or("promtool is missing: apt-get install prometheus")?;
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", promtool.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "promtool check metrics: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// One try; `Ok(Err(..))`: lost the race for the port, try again.
fn start_once(
    binary: &Path,
    target: SocketAddr,
    exemplar_storage: bool,
) -> Result<Result<Prometheus, String>, String> {
    static SEQUENCE: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "otel-testing-prometheus-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: service\n    static_configs:\n      - targets: [\"{target}\"]\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).map_err(|e| e.to_string())?;
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let log = std::fs::File::create(dir.join("prometheus.log")).map_err(|e| e.to_string())?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new(binary);
    command
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!("--web.listen-address={address}"))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg("--log.level=info")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    if exemplar_storage {
        command.arg("--enable-feature=exemplar-storage");
    }
    let child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let mut prometheus = Prometheus {
        child,
        address,
        dir,
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = prometheus.child.try_wait() {
            let log = prometheus.log();
            let lost_port = log.contains("address already in use");
            let error = format!("prometheus exited ({status}) while starting:\n{log}");
            return if lost_port {
                Ok(Err(error))
            } else {
                Err(error)
            };
        }
        if get(address, "/-/ready").is_ok_and(|(status, _)| status == 200) {
            return Ok(Ok(prometheus));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "prometheus not ready within {START_TIMEOUT:?}:\n{}",
                prometheus.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One HTTP/1.0 GET: the status code and the body.
fn get(address: SocketAddr, path_and_query: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))
        .map_err(|e| format!("{address}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.0\r\nHost: {address}\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_owned()))
}

/// Percent-encodes a query parameter.
fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// Serves `text` as `/metrics` (Prometheus text format) on a free loopback
/// port, from a background thread, for as long as the process runs: a
/// stand-in target for the harness's own examples and tests.
///
/// ```
/// use std::io::{Read as _, Write as _};
/// let target = otel_testing::prometheus::serve_fixed("# TYPE g gauge\ng 2\n");
/// let mut tcp = std::net::TcpStream::connect(target).unwrap();
/// tcp.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
/// let mut response = String::new();
/// tcp.read_to_string(&mut response).unwrap();
/// assert!(response.ends_with("g 2\n"));
/// ```
pub fn serve_fixed(text: &'static str) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let address = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{text}",
                text.len()
            );
        }
    });
    address
}
