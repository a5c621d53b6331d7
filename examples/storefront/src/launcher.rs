//! The launcher: runs this binary three times, once per service, each with
//! its own `OTEL_SERVICE_NAME`, wires their addresses together, forwards
//! their log lines, and stops them: the storefront first, then, once it has
//! stopped serving, the other two, all three flushing their telemetry at
//! the same time (so that stopping takes one shutdown timeout, not three).

use crate::config::{FIXED_POOL, Role};
use crate::roles::{READY, STOPPED};
use crate::{BoxError, shutdown};
use std::io::{IsTerminal, Write};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// How long a service may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a service may take to stop (finish requests, flush telemetry).
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// One running service.
struct Service {
    role: Role,
    child: Child,
    /// Kept apart from `child`: Tokio's `Child::wait` closes the child's
    /// stdin, which would tell the service to stop.
    stdin: Option<tokio::process::ChildStdin>,
    addr: String,
    /// Resolves when the service says it stopped serving.
    stopped: oneshot::Receiver<()>,
    /// The task forwarding its output; it ends at the end of the output.
    forwarder: tokio::task::JoinHandle<()>,
}

/// Starts inventory and payment, then the storefront pointing at them; runs
/// until interrupted or until a service exits.
pub async fn run(fixed_pool: bool) -> Result<(), BoxError> {
    let mut services = Vec::new();
    let result = start_all(fixed_pool, &mut services).await;
    let outcome = match result {
        Ok(()) => {
            let storefront = &services[services.len() - 1].addr;
            eprintln!(
                "storefront demo: http://{storefront}/checkout  (inventory http://{}, payment http://{}, pool {})\n\
                 try:  curl -s -X POST http://{storefront}/checkout -H 'content-type: application/json' \
                 -d '{{\"cart_id\":\"cart-1\",\"items\":[{{\"sku\":\"lamp\",\"quantity\":1}}]}}'\n\
                 load: cargo run -p storefront --bin storefront-load -- load --url http://{storefront}\n\
                 Ctrl-C stops the three services.",
                services[0].addr,
                services[1].addr,
                if fixed_pool {
                    "fixed: 20 connections"
                } else {
                    "small: 2 connections (--fixed-pool to fix it)"
                },
            );
            wait_for_stop(&mut services).await
        }
        Err(e) => Err(e),
    };
    // The storefront first, so that its last requests still reach the
    // others; once it has stopped serving (while it flushes its telemetry),
    // the others: the three flush at the same time.
    if let Some((storefront, others)) = services.split_last_mut() {
        drop(storefront.stdin.take());
        let stopped_serving = async {
            tokio::select! {
                _ = &mut storefront.stopped => {}
                _ = storefront.child.wait() => {}
            }
        };
        let _ = tokio::time::timeout(STOP_TIMEOUT, stopped_serving).await;
        for other in others {
            drop(other.stdin.take());
        }
    }
    // All are stopping now: waiting for each in turn takes as long as the slowest.
    for service in services.iter_mut().rev() {
        stop(service).await;
    }
    outcome
}

async fn start_all(fixed_pool: bool, services: &mut Vec<Service>) -> Result<(), BoxError> {
    let inventory = spawn(Role::Inventory, fixed_pool, &[])?;
    let payment = spawn(Role::Payment, fixed_pool, &[])?;
    for pending in [inventory, payment] {
        services.push(pending.ready().await?);
    }
    let storefront = spawn(
        Role::Storefront,
        fixed_pool,
        &[
            ("INVENTORY_URL", format!("http://{}", services[0].addr)),
            ("PAYMENT_URL", format!("http://{}", services[1].addr)),
        ],
    )?;
    services.push(storefront.ready().await?);
    Ok(())
}

/// A service started but not yet listening.
struct Starting {
    role: Role,
    child: Child,
    stdin: Option<tokio::process::ChildStdin>,
    ready: oneshot::Receiver<String>,
    stopped: oneshot::Receiver<()>,
    forwarder: tokio::task::JoinHandle<()>,
}

impl Starting {
    async fn ready(mut self) -> Result<Service, BoxError> {
        let name = self.role.service_name();
        let addr = tokio::select! {
            addr = &mut self.ready => addr.ok(),
            _ = tokio::time::sleep(START_TIMEOUT) => None,
            status = self.child.wait() => {
                return Err(format!("the {name} service exited at start ({})", describe(status)).into());
            }
        };
        match addr {
            Some(addr) => Ok(Service {
                role: self.role,
                child: self.child,
                stdin: self.stdin,
                addr,
                stopped: self.stopped,
                forwarder: self.forwarder,
            }),
            None => {
                let _ = self.child.kill().await;
                Err(format!("the {name} service did not start listening").into())
            }
        }
    }
}

fn spawn(role: Role, fixed_pool: bool, env: &[(&str, String)]) -> Result<Starting, BoxError> {
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .args(["--role", role.service_name(), "--supervised"])
        .env("OTEL_SERVICE_NAME", role.service_name())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if fixed_pool {
        command.arg("--fixed-pool");
        command.env("STOREFRONT_POOL_SIZE", FIXED_POOL.to_string());
    }
    // The children write to a pipe (to us), so by default they would log
    // JSON; keep human-readable text when we write to a terminal.
    if std::env::var_os("OTEL_INIT_LOG_FORMAT").is_none() && std::io::stdout().is_terminal() {
        command.env("OTEL_INIT_LOG_FORMAT", "text");
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("the child's standard output was not captured")?;
    let stdin = child.stdin.take();
    let (tx, rx) = oneshot::channel();
    let (stopped_tx, stopped) = oneshot::channel();
    let forwarder = tokio::spawn(forward_output(role, stdout, tx, stopped_tx));
    Ok(Starting {
        role,
        child,
        stdin,
        ready: rx,
        stopped,
        forwarder,
    })
}

/// Forwards the child's lines to our standard output, except the ready
/// line, whose address goes to `ready`, and the stopped line, which
/// resolves `stopped`.
async fn forward_output(
    role: Role,
    stdout: tokio::process::ChildStdout,
    ready: oneshot::Sender<String>,
    stopped: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut stopped = Some(stopped);
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.split_whitespace().eq([STOPPED, role.service_name()]) {
            if let Some(tx) = stopped.take() {
                let _ = tx.send(());
            }
            continue;
        }
        if ready.is_some()
            && let Some(addr) = ready_address(&line, role)
        {
            if let Some(tx) = ready.take() {
                let _ = tx.send(addr.to_owned());
            }
            continue;
        }
        // One write per line, so that lines of different services do not mix.
        let mut out = std::io::stdout().lock();
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        let _ = out.write_all(&bytes);
        let _ = out.flush();
    }
}

/// Until Ctrl-C / SIGTERM, or until a service exits on its own. On a
/// terminal, Ctrl-C reaches the services too, so one of them may stop
/// (successfully) before we see the signal: that is a stop, not a failure.
async fn wait_for_stop(services: &mut [Service]) -> Result<(), BoxError> {
    let [inventory, payment, storefront] = services else {
        return Err("three services expected".into());
    };
    tokio::select! {
        why = shutdown::requested(false) => {
            eprintln!("storefront demo: {why}, stopping the services");
            Ok(())
        }
        status = inventory.child.wait() => exited(Role::Inventory, status),
        status = payment.child.wait() => exited(Role::Payment, status),
        status = storefront.child.wait() => exited(Role::Storefront, status),
    }
}

fn exited(role: Role, status: std::io::Result<std::process::ExitStatus>) -> Result<(), BoxError> {
    let name = role.service_name();
    match status {
        Ok(status) if status.success() => {
            eprintln!("storefront demo: the {name} service stopped, stopping the others");
            Ok(())
        }
        other => Err(format!("the {name} service exited ({})", describe(other)).into()),
    }
}

/// Closes the service's standard input (its signal to stop), waits for it
/// to finish, kills it if it takes too long.
async fn stop(service: &mut Service) {
    drop(service.stdin.take());
    let waited = tokio::time::timeout(STOP_TIMEOUT, service.child.wait()).await;
    if waited.is_err() {
        eprintln!(
            "storefront demo: the {} service did not stop in time, killing it",
            service.role.service_name()
        );
        let _ = service.child.kill().await;
    }
    // Its last lines (those it wrote while stopping) are forwarded before
    // we exit.
    let _ = tokio::time::timeout(Duration::from_secs(2), &mut service.forwarder).await;
}

/// The address in `role`'s ready line (`storefront-ready inventory 127.0.0.1:4321`).
fn ready_address(line: &str, role: Role) -> Option<&str> {
    let mut words = line.split_whitespace();
    (words.next() == Some(READY) && words.next() == Some(role.service_name()))
        .then(|| words.next())
        .flatten()
        .filter(|addr| addr.parse::<std::net::SocketAddr>().is_ok())
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_lines_are_recognised_per_role() {
        let line = format!("{READY} inventory 127.0.0.1:4321");
        assert_eq!(
            ready_address(&line, Role::Inventory),
            Some("127.0.0.1:4321")
        );
        assert_eq!(ready_address(&line, Role::Payment), None);
        assert_eq!(
            ready_address(r#"{"message":"storefront-ready"}"#, Role::Inventory),
            None
        );
        assert_eq!(
            ready_address(&format!("{READY} inventory soon"), Role::Inventory),
            None
        );
    }
}
