#!/usr/bin/env bash
# `cargo package` for every library crate, packaged and verified together (a
# crate that depends on another of the workspace builds against the packaged
# one, through cargo's local overlay), after checking that the packages hold
# only what a build needs: sources, the build script, README and LICENSE.
# otel-testing, the examples and the e2e tests are not published.
# Run from the repository root on a clean checkout (CI does); pass
# --allow-dirty to try uncommitted changes.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(-p otel-http -p otel-logging -p otel-init -p otel-axum -p otel-reqwest -p otel-sqlx -p otel-tonic)

# Files cargo adds itself: the manifest (normalized and original), the lock
# file and the VCS note.
stray=$(cargo package --locked --list "${crates[@]}" "$@" 2>/dev/null |
  grep -vE '^(src/.+\.rs|build\.rs|README\.md|LICENSE|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json)$' || true)
if [ -n "$stray" ]; then
  echo "files outside the sources, README and LICENSE would be published:" >&2
  echo "$stray" >&2
  exit 1
fi

# Cargo verifies the packages through a temporary local registry whose
# extracted sources it keeps in $CARGO_HOME/registry/src/-<hash>/ (the same
# directory for every checkout) and reuses when the name and version match:
# an earlier run's otel-http-0.1.0 would be built instead of this one's (a
# file added since would be missing). Remove those stale extractions of this
# workspace's crates first; nothing else lives there.
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/; do
  [ -d "$dir" ] || continue
  for ((i = 1; i < ${#crates[@]}; i += 2)); do
    rm -rf "$dir${crates[i]}"-[0-9]*
  done
done

# The tests, benches and examples are left out on purpose (they need this
# workspace's test harness and services): cargo's warnings about them are expected.
cargo package --locked "${crates[@]}" "$@" 2> >(grep -v '^warning: ignoring \(test\|benchmark\|example\) ' >&2)
