//! An example service run as a child process: its output read line by line
//! (to find the address it listens on), plain HTTP/1.1 requests to it, a
//! graceful stop with SIGTERM, and a kill if the test ends first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running service; killed when dropped.
///
/// ```no_run
/// use otel_testing::service::{ServiceProcess, http_get};
/// use std::time::Duration;
/// let [exe] = otel_testing::workspace_binaries("quickstart", ["quickstart"]);
/// let mut service = ServiceProcess::start(&exe, &[("QUICKSTART_ADDR", "127.0.0.1:0")]);
/// let addr = service.listening_address(Duration::from_secs(30));
/// let (status, _body) = http_get(&addr, "/checkout/1", &[]).expect("GET");
/// assert_eq!(status, 200);
/// assert!(service.stop(Duration::from_secs(10)).success());
/// ```
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ServiceProcess {
    /// Starts `exe` with `env` and none of the test's `OTEL_*`, `RUST_LOG`
    /// and `DATABASE_URL` variables, reading its stdout and stderr. Panics
    /// if it cannot start.
    pub fn start(exe: &Path, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(exe);
        for (k, _) in std::env::vars() {
            if k.starts_with("OTEL_") || k == "RUST_LOG" || k == "DATABASE_URL" {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
        let (tx, lines) = mpsc::channel();
        let outputs = [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn Read + Send>),
        ];
        for out in outputs.into_iter().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first output line containing `needle`, printed already or within
    /// `timeout`; panics with the output so far if none comes.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no line with {needle:?}; output:\n{}", self.output());
    }

    /// The `host:port` of the first output line saying
    /// `listening on http://host:port`.
    pub fn listening_address(&mut self, timeout: Duration) -> String {
        let line = self.wait_for_line("listening on http://", timeout);
        line.split("http://")
            .nth(1)
            .and_then(|rest| rest.split(['"', ' ', '/']).next())
            .unwrap_or_else(|| panic!("no address in {line}"))
            .to_owned()
    }

    /// Everything it printed so far.
    pub fn output(&mut self) -> String {
        self.seen.extend(self.lines.try_iter());
        self.seen.join("\n")
    }

    /// Sends SIGTERM and waits at most `timeout` for the exit; panics with
    /// the output if it is still running then.
    pub fn stop(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "still running {timeout:?} after SIGTERM:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 GET to `addr` (`host:port`) with extra `headers`; the
/// status code and the body (a chunked body is returned with its chunk
/// framing). Waits at most 10 s.
///
/// ```no_run
/// let (status, metrics) = otel_testing::service::http_get(
///     "127.0.0.1:9464",
///     "/metrics",
///     &[("accept", "application/openmetrics-text; version=1.0.0")],
/// )?;
/// assert_eq!(status, 200);
/// assert!(metrics.ends_with("# EOF\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn http_get(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String)> {
    let mut tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())?;
    let mut response = String::new();
    tcp.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
