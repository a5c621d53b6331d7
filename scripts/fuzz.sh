#!/usr/bin/env bash
# Fuzzes the propagation parsers (traceparent, tracestate, baggage, B3, Jaeger)
# with cargo-fuzz / libFuzzer on the stable toolchain.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
#
# Each target extracts from arbitrary (also repeated) headers, injects what it
# extracted and extracts again: any panic, or a context that does not survive
# the round trip, is a crash. libFuzzer's -rss_limit_mb bounds memory.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-30}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
# cargo-fuzz passes -Z flags (sanitizers); RUSTC_BOOTSTRAP lets stable rustc accept them.
export RUSTC_BOOTSTRAP=1
for target in traceparent tracestate baggage b3 jaeger; do
  out=$(cargo fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=512 -max_len=4096 2>&1) || {
    echo "$out" | tail -40
    echo "fuzz target $target FAILED"
    exit 1
  }
  echo "$target: $(echo "$out" | grep -E '^Done [0-9]+ runs' | tail -1)"
done
