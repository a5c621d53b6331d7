//! SIGTERM (what `kill`, `docker stop` and a Kubernetes rollout send) stops
//! the quick-start service gracefully: the requests it completed before the
//! signal reach the collector (the real rotel, forwarding to an in-process
//! receiver), although nothing was exported before the signal (batch delays
//! of a minute), and the process exits successfully within the shutdown
//! timeout.

use otel_testing::{ThroughRotel, attr};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Checkouts sent before the signal (the example sends two of its own).
const ORDERS: [u32; 5] = [3, 4, 5, 6, 7];

/// The quickstart, killed if the test ends before it.
struct Service {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Service {
    fn start(otlp_endpoint: &str) -> Self {
        let [exe] = otel_testing::workspace_binaries("quickstart", ["quickstart"]);
        let mut cmd = Command::new(exe);
        for (k, _) in std::env::vars() {
            if k.starts_with("OTEL_") || k == "RUST_LOG" || k == "DATABASE_URL" {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .env("QUICKSTART_ADDR", "127.0.0.1:0")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_endpoint)
            .env("OTEL_INIT_LOG_FORMAT", "json")
            // Nothing leaves before the stop: only the shutdown flush can deliver.
            .env("OTEL_BSP_SCHEDULE_DELAY", "60000")
            .env("OTEL_BLRP_SCHEDULE_DELAY", "60000")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "60000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the quickstart");
        let (tx, lines) = mpsc::channel();
        for out in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Service {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the line containing `needle`; returns it.
    fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
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
        panic!("no line with {needle:?}; output:\n{}", self.seen.join("\n"));
    }

    fn output(&mut self) -> String {
        self.seen.extend(self.lines.try_iter());
        self.seen.join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plain HTTP/1.1 GET; the status code.
fn get(addr: &str, path: &str) -> u16 {
    let mut tcp = TcpStream::connect(addr).expect("connect to the quickstart");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    let _ = tcp.read_to_string(&mut response);
    response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[test]
fn sigterm_flushes_the_spans_of_every_completed_request() {
    let Some(chain) = ThroughRotel::start(1) else {
        return;
    };
    let mut service = Service::start(&chain.rotel.http_endpoint());
    let listening = service.wait_for_line("listening on http://");
    let addr = listening
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split(['"', ' ']).next())
        .unwrap_or_else(|| panic!("no address in {listening}"))
        .to_owned();
    service.wait_for_line("demo request");
    for order in ORDERS {
        let status = get(&addr, &format!("/checkout/{order}"));
        assert!(
            [200, 402, 404].contains(&status),
            "order {order}: {status}\n{}",
            service.output()
        );
    }

    let pid = service.child.id().to_string();
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(status) = service.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIGTERM\n{}",
            service.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = service.output();
    assert!(
        status.success(),
        "SIGTERM must stop it gracefully, not end it: {status}\n{output}"
    );

    let receiver = &chain.receiver;
    let paths = || -> Vec<String> {
        receiver
            .spans()
            .iter()
            .filter(|s| s.name == "GET /checkout/{order}")
            .filter_map(|s| attr(&s.attributes, "url.path"))
            .collect()
    };
    let arrived = receiver.wait_for(Duration::from_secs(20), |_| {
        ORDERS
            .iter()
            .all(|order| paths().contains(&format!("/checkout/{order}")))
    });
    assert!(
        arrived,
        "server spans that reached rotel: {:?}\nquickstart:\n{output}\nrotel:\n{}",
        paths(),
        chain.rotel.log()
    );
    // The query and client spans of those requests went with them.
    let spans = receiver.spans();
    let queries = spans
        .iter()
        .filter(|s| s.name == "SELECT quickstart_cart_items")
        .count();
    assert!(queries >= ORDERS.len(), "{queries} query spans");
}
