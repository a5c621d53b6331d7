#!/bin/sh
# Instructions per histogram measurement, counted by callgrind (deterministic,
# unlike timings on a shared machine): each case of the `exemplars` bench runs
# LOW and HIGH measurements; the difference divided by HIGH-LOW removes
# start-up costs. "added" is what the exemplar provider adds to the bare SDK
# histogram of the same group and context.
#
#   cargo bench -p otel-init --bench exemplars --no-run
#   sh otel-init/benches/exemplars_instructions.sh
set -eu
LOW=${LOW:-20000}
HIGH=${HIGH:-120000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$(ls -t "$TARGET"/release/deps/exemplars-* 2>/dev/null | grep -v '\.d$' | head -1)}
[ -x "$BIN" ] || { echo "build first: cargo bench -p otel-init --bench exemplars --no-run" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
count() { # case n -> instructions of the process
    EXEMPLARS_CASE=$1 EXEMPLARS_N=$2 valgrind --tool=callgrind \
        --callgrind-out-file="$OUT/run" "$BIN" >/dev/null 2>&1
    sed -n 's/^summary: //p' "$OUT/run"
}
per_measurement() { # case -> instructions per measurement
    a=$(count "$1" "$LOW"); b=$(count "$1" "$HIGH")
    echo $(( (b - a) / (HIGH - LOW) ))
}
printf '%-28s %10s %8s\n' case instr/rec added
for group in record bound; do
    for context in no_span unsampled sampled; do
        sdk=$(per_measurement "$group/sdk/$context")
        ours=$(per_measurement "$group/exemplars/$context")
        printf '%-28s %10s\n' "$group/sdk/$context" "$sdk"
        printf '%-28s %10s %8s\n' "$group/exemplars/$context" "$ours" "+$((ours - sdk))"
    done
done
