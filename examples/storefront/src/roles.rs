//! Running one service: telemetry, the listener, the router behind
//! `OtelLayer` (or, for payment, the gRPC server behind `OtelServerLayer`),
//! and an orderly stop that flushes the telemetry.

use crate::config::{DatabaseSettings, Role};
use crate::database::Database;
use crate::{BoxError, inventory, payment, shop, shutdown, telemetry};
use axum::Router;
use axum::routing::get;
use otel_axum::OtelLayer;
use tracing::{error, info};

/// The first word of the line a supervised service prints on standard output
/// once it listens: `storefront-ready <role> <address>`. The launcher reads
/// it (and does not forward it).
pub const READY: &str = "storefront-ready";

/// The line a supervised service prints once it has stopped serving (before
/// it flushes its telemetry): `storefront-stopped <role>`. The launcher
/// then stops the services it calls.
pub const STOPPED: &str = "storefront-stopped";

/// Runs `role` until it is asked to stop.
pub async fn run(role: Role, supervised: bool, fixed_pool: bool) -> Result<(), BoxError> {
    let telemetry = telemetry::init(role)?;
    let result = serve(role, supervised, fixed_pool).await;
    if let Err(e) = &result {
        error!(error = %e, "{} stopped on an error", role.service_name());
    }
    let report = telemetry.shutdown();
    info!(?report.export, "telemetry shut down");
    result
}

async fn serve(role: Role, supervised: bool, fixed_pool: bool) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(role.listen_addr()).await?;
    let local = listener.local_addr()?;
    match role {
        Role::Storefront => {
            let app = shop::App::from_env()?;
            run_router(listener, shop::router(app), role, supervised).await
        }
        Role::Payment => run_grpc(listener, role, supervised).await,
        Role::Inventory => {
            let settings = DatabaseSettings::from_env(fixed_pool)?;
            let database = Database::open(&settings).await?;
            info!(
                database = %database.describe(),
                pool_size = settings.pool_size,
                hold_ms = settings.hold.as_millis() as u64,
                "inventory database ready at {local}"
            );
            let result = run_router(
                listener,
                inventory::router(database.clone(), settings.hold),
                role,
                supervised,
            )
            .await;
            database.close().await;
            result
        }
    }
}

/// Serves the payment service over gRPC behind otel-tonic's server layer
/// until a stop is requested.
async fn run_grpc(
    listener: tokio::net::TcpListener,
    role: Role,
    supervised: bool,
) -> Result<(), BoxError> {
    let local = listener.local_addr()?;
    info!("{} listening on grpc://{local}", role.service_name());
    if supervised {
        println!("{READY} {} {local}", role.service_name());
    }
    // Built after init, so the layer picks up the global providers.
    tonic::transport::Server::builder()
        .layer(otel_tonic::OtelServerLayer::new())
        .add_service(payment::service())
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            async move {
                let why = shutdown::requested(supervised).await;
                info!("{} stopping: {why}", role.service_name());
            },
        )
        .await?;
    if supervised {
        println!("{STOPPED} {}", role.service_name());
    }
    Ok(())
}

/// Serves `router` (plus `/healthz`) behind the server layer until a stop
/// is requested.
async fn run_router(
    listener: tokio::net::TcpListener,
    router: Router,
    role: Role,
    supervised: bool,
) -> Result<(), BoxError> {
    let local = listener.local_addr()?;
    // Built after init, so the layer picks up the global providers. Health
    // checks get no span at all.
    let app = router.route("/healthz", get(|| async { "ok" })).layer(
        OtelLayer::builder()
            .skip_paths(["/healthz"])
            .trace_response_header("traceresponse")
            .build(),
    );
    info!("{} listening on http://{local}", role.service_name());
    if supervised {
        println!("{READY} {} {local}", role.service_name());
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let why = shutdown::requested(supervised).await;
            info!("{} stopping: {why}", role.service_name());
        })
        .await?;
    if supervised {
        println!("{STOPPED} {}", role.service_name());
    }
    Ok(())
}
