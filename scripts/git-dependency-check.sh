#!/usr/bin/env bash
# Proves that a project outside this repository can depend on the crates as a
# `git` dependency, the way the README and docs/getting-started.md tell users
# to: creates a scratch cargo project in a temporary directory, depending on
# otel-init, otel-axum, otel-reqwest, otel-sqlx (PostgreSQL only) and
# otel-tonic with
# `git = "file://<this clone>", rev = "<HEAD>"`, builds its small service
# (init, an axum router with OtelLayer, a traced client, an instrumented pool)
# and runs it once (it builds everything, then exits without serving).
#
# What is checked is the committed HEAD of this clone (uncommitted changes are
# not seen: cargo fetches the commit through git). The scratch project starts
# from this workspace's Cargo.lock, so it resolves the versions CI tested, and
# builds into this workspace's target directory (CARGO_TARGET_DIR, or ./target)
# so the dependencies compiled by the other steps are reused.
# Run from anywhere in the repository; CI runs it (.ci/run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$root" rev-parse HEAD)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "note: uncommitted changes are not checked; building the committed HEAD $rev"
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/otel-git-dependency.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src"

url="file://$root"
cat >"$scratch/Cargo.toml" <<EOF
[package]
name = "git-dependency-check"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
otel-init = { git = "$url", rev = "$rev" }
otel-axum = { git = "$url", rev = "$rev" }
otel-reqwest = { git = "$url", rev = "$rev" }
otel-sqlx = { git = "$url", rev = "$rev", default-features = false, features = ["postgres"] }
otel-tonic = { git = "$url", rev = "$rev" }
axum = "0.8"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
tracing = "0.1"

# Not a member of any workspace above the temporary directory.
[workspace]
EOF

cat >"$scratch/src/main.rs" <<'EOF'
//! A minimal service on the git dependencies: what a user outside the
//! repository writes after the README's quick start.
use axum::extract::{Path, State};
use axum::{Router, routing::get};
use otel_axum::OtelLayer;
use otel_reqwest::reqwest_middleware::ClientWithMiddleware;
use otel_sqlx::{PgPool, sqlx};
use tracing::{info, instrument};

#[derive(Clone)]
struct App {
    db: PgPool,
    http: ClientWithMiddleware,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = otel_init::init_telemetry!()?;
    // Lazy: no connection is opened until the first query.
    let db = PgPool::connect_lazy("postgres://postgres@127.0.0.1:5432/test")?;
    let http = otel_reqwest::traced_client()?;
    // The gRPC layers: for `tonic::transport::Server::builder().layer(..)`
    // and `ServiceBuilder::new().layer(..).service(channel)`.
    let _grpc_server = otel_tonic::OtelServerLayer::new();
    let _grpc_client = otel_tonic::OtelClientLayer::new();
    let app: Router = Router::new()
        .route("/orders/{id}", get(order))
        .with_state(App { db, http })
        .layer(OtelLayer::new());
    if std::env::args().nth(1).as_deref() == Some("serve") {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
        axum::serve(listener, app)
            .with_graceful_shutdown(otel_init::shutdown_signal())
            .await?;
    }
    info!("built");
    Ok(())
}

#[instrument(skip(app))]
async fn order(State(app): State<App>, Path(id): Path<i64>) -> String {
    let total: Result<i64, sqlx::Error> = sqlx::query_scalar("SELECT $1::bigint * 2")
        .bind(id)
        .fetch_one(&app.db)
        .await;
    let upstream = app.http.get("http://127.0.0.1:3000/health").send().await;
    format!("{total:?} {}", upstream.is_ok())
}
EOF

# Start from the versions this workspace tested; cargo replaces the
# workspace's own crates by their git source and drops what is unused.
cp "$root/Cargo.lock" "$scratch/Cargo.lock"

cd "$scratch"
start=$(date +%s)
cargo build --quiet
echo "scratch project built in $(($(date +%s) - start)) s (otel-init, otel-axum, otel-reqwest, otel-sqlx, otel-tonic from $url at $rev)"

# The git sources, not a path: the lock names the repository and the commit.
for crate in otel-init otel-axum otel-reqwest otel-sqlx otel-tonic otel-http; do
  grep -A2 "^name = \"$crate\"" Cargo.lock | grep -q "source = \"git+$url?rev=$rev#$rev\"" || {
    echo "$crate is not resolved from $url at $rev:" >&2
    grep -A2 "^name = \"$crate\"" Cargo.lock >&2
    exit 1
  }
done
# A PostgreSQL-only otel-sqlx: no SQLite, no MySQL driver.
if cargo tree -e normal,build --prefix none | grep -E '^(libsqlite3-sys|sqlx-sqlite|sqlx-mysql) '; then
  echo "the scratch project must not build the crates above" >&2
  exit 1
fi

OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \
  "$CARGO_TARGET_DIR/debug/git-dependency-check"
echo "git dependency check passed"
