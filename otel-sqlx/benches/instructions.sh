#!/bin/sh
# Instructions per lookup, the whole process (query path, export thread,
# SQLite's worker; not the PostgreSQL server), counted by callgrind:
# deterministic, unlike timings on a shared machine. Each case against raw
# sqlx in the same binary.
#
#   cargo bench -p otel-sqlx --bench overhead --no-run
#   sh otel-sqlx/benches/instructions.sh [sqlite|postgres] [cases...]
#
# Each case runs LOW and HIGH lookups; the difference divided by HIGH-LOW
# removes start-up costs. A run of a case also runs raw sqlx (the bench always
# does), subtracted here.
set -eu
LOW=${LOW:-1000}
HIGH=${HIGH:-5000}
PART=${1:-sqlite}
[ $# -gt 0 ] && shift
BIN=${BIN:-$(ls -t target/release/deps/overhead-* 2>/dev/null | grep -v '\.d$' | head -1)}
[ -x "$BIN" ] || { echo "build first: cargo bench -p otel-sqlx --bench overhead --no-run" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
count() { # cases lookups -> instructions of the whole process
    OTEL_SQLX_BENCH_COUNT=$2 OTEL_SQLX_BENCH_ONLY=$PART OTEL_SQLX_BENCH_CASES=$1 \
        valgrind --tool=callgrind --callgrind-out-file="$OUT/$1.$2" "$BIN" --bench >/dev/null 2>&1
    sed -n 's/^summary: //p' "$OUT/$1.$2"
}
per_lookup() { # case -> instructions per lookup of the case and raw together
    a=$(count "$1" "$LOW"); b=$(count "$1" "$HIGH")
    echo $(( (b - a) / (HIGH - LOW) ))
}
raw=$(per_lookup none)
printf '%-20s %8s %9s %8s\n' "$PART" instr added "x raw"
printf '%-20s %8d\n' raw "$raw"
for case in ${*:-sampled unsampled sampled_every_wait}; do
    own=$(( $(per_lookup "$case") - raw ))
    printf '%-20s %8d %+9d %8s\n' "$case" "$own" $(( own - raw )) \
        "$(awk -v o="$own" -v r="$raw" 'BEGIN { printf "%.3f", o / r }')"
done
