#!/usr/bin/env bash
# Build footprint, measured: builds minimal services from clean target
# directories with `cargo build --release` and reports, for each, the wall-clock
# build time (and the CPU time of the build), the number of crates compiled (`Compiling` lines) and the size of
# the stripped release binary. Too slow for CI (about 20-30 minutes on a
# 2-core machine); run it by hand:
#
#   scripts/footprint.sh                       # every variant, 2 rounds
#   scripts/footprint.sh --rounds 1 ours-slim  # some variants, 1 round
#
# Variants (the projects are generated in a temporary directory outside the
# repository; they depend on this checkout's crates by path, and start from
# its Cargo.lock so that the shared dependencies have the same versions):
#   ours-default  otel-init (default features) + otel-axum: `main` with
#                 `otel_init::init_telemetry!()`, an axum router with
#                 `otel_axum::OtelLayer::new()`, one route, graceful shutdown
#   ours-slim     the same with otel-init's slimmest documented set:
#                 default-features = false, features = ["http-proto"]
#   peer          the same service with init-tracing-opentelemetry +
#                 axum-tracing-opentelemetry, as their READMEs set them up,
#                 with the features for the same signals, transports and TLS
#   sqlx-bare     sqlx (postgres, runtime-tokio, macros) alone, one query
#   sqlx-otel     the same with otel-sqlx (default-features = false,
#                 features = ["postgres"]) wrapping the pool
#
# Rounds alternate the order of the variants (forward, then backward), each
# build from its own empty target directory, CARGO_BUILD_JOBS=2. The load
# average is recorded before each build, since the machine may be shared.
# Dependencies are downloaded (`cargo fetch`) before any build is timed.
# Environment: FOOTPRINT_DIR keeps the scratch projects and logs there
# (default: a new temporary directory, removed at the end unless --keep);
# FOOTPRINT_REPO measures the crates of another checkout (default: this one).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${FOOTPRINT_REPO:-$(cd "$here/.." && pwd)}
rounds=2
keep=0
variants=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) variants+=("$1"); shift ;;
  esac
done
all=(ours-default ours-slim peer sqlx-bare sqlx-otel)
[[ ${#variants[@]} -eq 0 ]] && variants=("${all[@]}")

# The peer stack, named here and in the report.
peer_init_version="0.44.0"
peer_axum_version="0.42.1"
peer_features='"tracing_subscriber_ext", "otlp", "tonic", "tls", "tls-ring", "tls-roots", "metrics", "logs"'

work=${FOOTPRINT_DIR:-$(mktemp -d /tmp/footprint.XXXXXX)}
mkdir -p "$work"
if [[ -z "${FOOTPRINT_DIR:-}" && $keep -eq 0 ]]; then
  trap 'rm -rf "$work"' EXIT
fi
# A clean build means no shared target directory and no compiler cache.
unset CARGO_TARGET_DIR RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER
export CARGO_BUILD_JOBS=2 CARGO_TERM_COLOR=never CARGO_TERM_PROGRESS_WHEN=never

tokio_line='tokio = { version = "1", features = ["macros", "rt-multi-thread", "net", "signal"] }'

manifest() { # name, dependency lines
  cat <<EOF
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

# A workspace of its own: not part of any enclosing one.
[workspace]

[dependencies]
$2
EOF
}

service_ours() {
  cat <<'EOF'
use axum::{Router, routing::get};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = otel_init::init_telemetry!()?;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(otel_axum::OtelLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(otel_init::shutdown_signal())
        .await?;
    Ok(())
}
EOF
}

service_peer() {
  cat <<'EOF'
use axum::{Router, routing::get};
use axum_tracing_opentelemetry::middleware::{OtelAxumLayer, OtelInResponseLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = init_tracing_opentelemetry::TracingConfig::production()
        .with_metrics(true)
        .with_logs(true)
        .init_subscriber()?;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(OtelInResponseLayer::default())
        .layer(OtelAxumLayer::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await?;
    Ok(())
}
EOF
}

service_sqlx() { # pool type
  cat <<EOF
#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let pool = $1::connect(&url).await?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    println!("{one}");
    Ok(())
}
EOF
}

sqlx_line='sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "postgres", "macros"] }'
sqlx_tokio='tokio = { version = "1", features = ["macros", "rt-multi-thread"] }'

# Writes the project of a variant into $work/<variant> and prints the
# dependency lines that differ between variants (for the report).
generate() {
  local v=$1 dir=$work/$1 deps
  mkdir -p "$dir/src"
  case "$v" in
    ours-default)
      deps="otel-init = { path = \"$repo/otel-init\" }
otel-axum = { path = \"$repo/otel-axum\" }"
      service_ours >"$dir/src/main.rs" ;;
    ours-slim)
      deps="otel-init = { path = \"$repo/otel-init\", default-features = false, features = [\"http-proto\"] }
otel-axum = { path = \"$repo/otel-axum\" }"
      service_ours >"$dir/src/main.rs" ;;
    peer)
      deps="init-tracing-opentelemetry = { version = \"=$peer_init_version\", default-features = false, features = [$peer_features] }
axum-tracing-opentelemetry = \"=$peer_axum_version\""
      service_peer >"$dir/src/main.rs" ;;
    sqlx-bare)
      deps="$sqlx_line"
      service_sqlx sqlx::PgPool >"$dir/src/main.rs" ;;
    sqlx-otel)
      deps="otel-sqlx = { path = \"$repo/otel-sqlx\", default-features = false, features = [\"postgres\"] }
$sqlx_line"
      service_sqlx otel_sqlx::PgPool >"$dir/src/main.rs" ;;
    *) echo "unknown variant $v (one of: ${all[*]})" >&2; exit 2 ;;
  esac
  local common
  case "$v" in
    sqlx-*) common="$sqlx_tokio" ;;
    *) common="axum = \"0.8\"
$tokio_line" ;;
  esac
  manifest "fp-$v" "$deps
$common" >"$dir/Cargo.toml"
  cp "$repo/Cargo.lock" "$dir/Cargo.lock"
  printf '%s\n' "$deps"
}

results=$work/results.tsv
printf 'round\tvariant\tseconds\tcpu_seconds\tcrates\tstripped_bytes\tload_before\tload_after\n' >"$results"

declare -A skip
echo "== footprint: $(date -u +%FT%TZ), $(nproc) cores, $(rustc --version), $(cargo --version)"
echo "== scratch projects in $work"
for v in "${variants[@]}"; do
  echo "-- $v dependencies:"
  generate "$v" | sed 's/^/   /'
  # Resolve and download before anything is timed; a feature that does not
  # exist (yet) is reported for its row instead of failing the run.
  if ! (cd "$work/$v" && cargo fetch >"$work/$v/fetch.log" 2>&1); then
    if grep -q "does not have th\(at\|ese\) feature" "$work/$v/fetch.log"; then
      skip[$v]=$(grep -m1 "does not have" "$work/$v/fetch.log" | sed 's/^ *//')
      echo "   not measured: ${skip[$v]}"
    else
      cat "$work/$v/fetch.log" >&2
      exit 1
    fi
  fi
done

load() { cut -d' ' -f1 /proc/loadavg; }

build() { # round, variant
  local r=$1 v=$2 dir=$work/$2 target=$work/$2/target-r$1 log=$work/$2/build-r$1.log
  rm -rf "$target"
  local l0 t0 t1 l1
  l0=$(load)
  t0=$(date +%s.%N)
  if ! (cd "$dir" && CARGO_TARGET_DIR=$target /usr/bin/time -f '%U %S' -o "$dir/cpu-r$r.txt" \
    cargo build --release --timings >"$log" 2>&1); then
    tail -30 "$log" >&2
    echo "build of $v failed (log: $log)" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  l1=$(load)
  local secs cpu crates bin size
  secs=$(python3 -c "print(f'{$t1 - $t0:.0f}')")
  # CPU time (user + system) of cargo and the compilers it ran: less
  # sensitive than the wall clock to other work on the machine.
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$dir/cpu-r$r.txt")
  crates=$(grep -c '^ *Compiling ' "$log")
  bin=$target/release/fp-$v
  strip -o "$target/fp-$v.stripped" "$bin"
  size=$(stat -c %s "$target/fp-$v.stripped")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$secs" "$cpu" "$crates" "$size" "$l0" "$l1" >>"$results"
  echo "   round $r $v: ${secs} s wall, ${cpu} s CPU, $crates crates, $size bytes stripped (load $l0 -> $l1)"
  # The slowest units of this build, from cargo's timing report.
  python3 "$here/footprint_timings.py" "$target"/cargo-timings/cargo-timing.html 6 \
    >"$dir/slowest-r$r.txt" 2>&1 || true
  sed 's/^/      /' "$dir/slowest-r$r.txt"
  # Keep only what the report needs: the binary and the timings.
  find "$target/release" -mindepth 1 -maxdepth 1 ! -name "fp-$v" -exec rm -rf {} +
}

for ((r = 1; r <= rounds; r++)); do
  order=("${variants[@]}")
  if ((r % 2 == 0)); then
    order=()
    for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
  fi
  echo "== round $r: ${order[*]} (uptime: $(uptime))"
  for v in "${order[@]}"; do
    [[ -n "${skip[$v]:-}" ]] && continue
    build "$r" "$v"
  done
done

echo "== results ($(uptime))"
python3 "$here/footprint_timings.py" --summary "$results" \
  "$(for v in "${!skip[@]}"; do printf '%s=%s;' "$v" "${skip[$v]}"; done)"
