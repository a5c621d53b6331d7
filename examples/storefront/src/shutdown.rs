//! When a service stops: Ctrl-C, SIGTERM, or (when the launcher started it)
//! its standard input closing, which also happens when the launcher dies.

use std::io::Read;

/// Resolves when the process is asked to stop; returns why.
pub async fn requested(supervised: bool) -> String {
    // Installed now, so that a signal arriving before the first poll is kept.
    let signal = otel_init::wait_for_stop_signal();
    let stdin_closed = async {
        if supervised {
            stdin_closed().await
        } else {
            std::future::pending().await
        }
    };
    tokio::select! {
        signal = signal => format!("received {signal}"),
        _ = stdin_closed => "the launcher closed our standard input".to_owned(),
    }
}

/// Reads standard input on a plain thread (which does not hold the process
/// open at exit, unlike a Tokio blocking task) until end of file.
async fn stdin_closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".to_owned())
        .spawn(move || {
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            let _ = tx.send(());
        });
    if spawned.is_ok() {
        let _ = rx.await;
    } else {
        std::future::pending::<()>().await;
    }
}
