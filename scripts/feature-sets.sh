#!/usr/bin/env bash
# Builds, lints and tests every feature set the docs name, beyond the defaults
# that `cargo test --workspace` covers, and checks that a one-database
# otel-sqlx builds no other driver and an HTTP/protobuf-only otel-init no
# tonic, TLS or gzip. Run from the repository root; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

# otel-sqlx: one database each. The doctests use SQLite and run with the
# default features (cargo test --workspace); here the unit and integration
# tests run, each file gated on the feature of its database.
for db in postgres mysql sqlite; do
  echo "== otel-sqlx --no-default-features --features $db"
  cargo clippy -q -p otel-sqlx --no-default-features --features "$db" --lib --tests -- -D warnings
  cargo test -q -p otel-sqlx --no-default-features --features "$db" --lib --tests
done

# What a PostgreSQL-only service compiles: no SQLite (and its C library), no MySQL.
tree=$(cargo tree -p otel-sqlx --no-default-features --features postgres -e normal,build --prefix none)
if grep -E '^(libsqlite3-sys|sqlx-sqlite|sqlx-mysql) ' <<<"$tree"; then
  echo "a PostgreSQL-only otel-sqlx must not build the crates above" >&2
  exit 1
fi
echo "PostgreSQL-only otel-sqlx: no SQLite, no MySQL driver"

# otel-axum without bound instruments: metrics carry their attribute lists,
# on the OpenTelemetry API alone (no opentelemetry_sdk in its dependencies).
echo "== otel-axum --no-default-features"
cargo clippy -q -p otel-axum --no-default-features --lib --tests -- -D warnings
cargo test -q -p otel-axum --no-default-features --lib --tests
if cargo tree -p otel-axum --no-default-features -e normal --prefix none | grep -E '^opentelemetry_sdk '; then
  echo "otel-axum without bound-instruments must not depend on the SDK" >&2
  exit 1
fi
echo "otel-axum without bound-instruments: API only"

# otel-tonic without its default features (no tonic `server` feature for
# `network.peer.*`, no bound instruments): the library builds and lints.
echo "== otel-tonic --no-default-features"
cargo clippy -q -p otel-tonic --no-default-features --lib -- -D warnings

# otel-tonic `tls`: network.peer.* on a server terminating TLS itself and on
# tonic's own TLS server (tests/tls.rs, real TLS servers and clients, needs
# the feature), and no crypto provider chosen for the user (tonic's
# `_tls-any`, not `tls-ring` or `tls-aws-lc`).
echo "== otel-tonic --features tls"
cargo clippy -q -p otel-tonic --features tls --all-targets -- -D warnings
cargo clippy -q -p otel-tonic --no-default-features --features tls --lib -- -D warnings
cargo test -q -p otel-tonic --features tls --test tls
if cargo tree -p otel-tonic --no-default-features --features tls -e normal --prefix none | grep -E '^(ring|aws-lc-rs|aws-lc-sys) '; then
  echo "otel-tonic's tls feature must not pick a crypto provider" >&2
  exit 1
fi
echo "otel-tonic tls: no crypto provider"

# otel-init: the slimmest documented set (OTLP/HTTP with protobuf bodies, no
# TLS, no gzip) and gRPC alone. The doctests run with the default features;
# here the unit tests and tests/features.rs run (the other integration test
# files need the default features and say so with required-features).
for features in http-proto grpc; do
  echo "== otel-init --no-default-features --features $features"
  cargo clippy -q -p otel-init --no-default-features --features "$features" --lib --tests -- -D warnings
  cargo test -q -p otel-init --no-default-features --features "$features" --lib --tests
done

# What an HTTP/protobuf-only service compiles: no tonic, no TLS, no gzip.
tree=$(cargo tree -p otel-init --no-default-features --features http-proto -e normal,build --prefix none)
if grep -E '^(tonic|tonic-types|h2|rustls|hyper-rustls|rustls-native-certs|flate2|url|idna) ' <<<"$tree"; then
  echo "an http-proto-only otel-init must not build the crates above" >&2
  exit 1
fi
echo "http-proto-only otel-init: no tonic, h2, rustls, flate2 or url"

# otel-init's `prometheus` feature on the slim set: it builds, its tests pass,
# and it brings no crate of its own (hyper's server half and the SDK's pull
# reader are features of crates already there).
echo "== otel-init --no-default-features --features http-proto,prometheus"
cargo clippy -q -p otel-init --no-default-features --features http-proto,prometheus --lib --tests -- -D warnings
cargo test -q -p otel-init --no-default-features --features http-proto,prometheus --lib --test prometheus
with=$(cargo tree -p otel-init --no-default-features --features http-proto,prometheus -e normal,build --prefix none | sort -u)
without=$(sort -u <<<"$tree")
if [ "$with" != "$without" ]; then
  diff <(echo "$without") <(echo "$with") >&2 || true
  echo "the prometheus feature must not add crates to otel-init's tree" >&2
  exit 1
fi
echo "otel-init's prometheus feature: no crates added"
