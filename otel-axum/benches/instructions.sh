#!/bin/sh
# Instructions per request of the whole process (server, load generator and
# any export thread), counted by callgrind: deterministic, unlike timings on a
# shared machine. Each case of the `load` bench runs LOW and HIGH requests
# (after the same 2000 of warm-up); the difference divided by HIGH-LOW removes
# start-up costs, and bare axum's figure is subtracted to give what the
# instrumentation adds.
#
#   cargo bench -p otel-axum --bench load --no-run
#   sh otel-axum/benches/instructions.sh [cases...]
set -eu
LOW=${LOW:-2000}
HIGH=${HIGH:-6000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$(ls -t "$TARGET"/release/deps/load-* 2>/dev/null | grep -v '\.d$' | head -1)}
[ -x "$BIN" ] || { echo "build first: cargo bench -p otel-axum --bench load --no-run" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
count() { # case requests -> instructions of every thread of the process
    LOAD_CASE=$1 LOAD_REQUESTS=$2 valgrind --tool=callgrind \
        --callgrind-out-file="$OUT/$1.$2" "$BIN" >/dev/null 2>&1
    sed -n 's/^summary: //p' "$OUT/$1.$2"
}
per_request() { # case -> instructions per request
    a=$(count "$1" "$LOW"); b=$(count "$1" "$HIGH")
    echo $(( (b - a) / (HIGH - LOW) ))
}
bare=$(per_request bare)
printf '%-18s %10s %9s %8s\n' case instr/req added "x bare"
printf '%-18s %10d\n' bare "$bare"
for case in ${*:-ours-sampled ours-unsampled ours-no-metrics peer-sampled peer-unsampled}; do
    total=$(per_request "$case")
    printf '%-18s %10d %+9d %8s\n' "$case" "$total" $(( total - bare )) \
        "$(awk -v o="$total" -v b="$bare" 'BEGIN { printf "%.3f", o / b }')"
done
