//! A minimal accept loop on hyper that can be stopped abruptly: dropping the
//! loop's task closes the listener and every connection and request task it
//! started, so "the collector is down" really looks down to clients (even to
//! requests stuck in [`Behavior::Blackhole`](super::Behavior::Blackhole)).

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::codegen::Service;

/// Binds a listener on `addr` with `SO_REUSEADDR`, so that a port given up by
/// [`OtlpReceiver::pause`](super::OtlpReceiver::pause) can be bound again
/// while old connections linger in `TIME_WAIT`.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Spawns tasks that all end as soon as the owner of the matching
/// [`watch::Sender`] is dropped.
#[derive(Clone)]
struct GuardedExecutor {
    stop: watch::Receiver<()>,
}

impl<F> hyper::rt::Executor<F> for GuardedExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = fut => {}
                // Never sent to: resolves (with an error) when the sender drops.
                _ = stop.changed() => {}
            }
        });
    }
}

/// Spawns the accept loop for `listener`, serving every connection (HTTP/1 or
/// HTTP/2, including h2c prior knowledge as gRPC uses) with `service`.
/// Aborting the returned task stops everything it started.
pub(crate) fn spawn<S, B>(listener: TcpListener, service: S) -> JoinHandle<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::spawn(accept_loop(listener, service))
}

async fn accept_loop<S, B>(listener: TcpListener, service: S)
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // Lives as long as this future: dropping it ends every task below.
    let (_stop_tx, stop_rx) = watch::channel(());
    let executor = GuardedExecutor { stop: stop_rx };
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // E.g. too many open files: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let conn_executor = executor.clone();
        hyper::rt::Executor::execute(&executor, async move {
            let hyper_service = hyper::service::service_fn(move |request| {
                let mut service = service.clone();
                async move {
                    poll_fn(|cx| service.poll_ready(cx)).await?;
                    service.call(request).await
                }
            });
            let builder = auto::Builder::new(conn_executor);
            // Connection errors (client went away, bad preface) are the
            // client's business.
            let _ = builder
                .serve_connection(TokioIo::new(stream), hyper_service)
                .await;
        });
    }
}
