#!/bin/sh
# Instructions per unary call, counted by callgrind: deterministic, unlike
# timings on a shared machine. Each case runs LOW and HIGH calls; the
# difference divided by HIGH-LOW removes start-up costs.
#
#   cargo bench -p otel-tonic --bench unary --bench layer_cost --no-run
#   sh otel-tonic/benches/instructions.sh [cases...]
#
# Whole process (the `unary` bench: a tonic server and client over loopback,
# 32 callers, every thread counted; bare tonic is subtracted, so "added" is
# server and client together): ours-sampled ours-unsampled ours-no-metrics
# ours-declared peer bare-traceparent (bare tonic sending a traceparent: the
# HTTP/2 floor). Scheduling under 32 callers moves these by a few thousand per
# call between runs.
#
# The layers alone (the `layer_cost` bench: each layer around a stub service,
# no I/O, one thread; the stub alone is subtracted; the same to the
# instruction between runs): layer-server-sampled layer-server-unsampled
# layer-client-sampled layer-client-unsampled, and on the global provider
# with otel-init's default sampler and an unsampled parent, without and with
# otel-init's declaration (otel_http::sampling): layer-server-parent-unsampled
# layer-server-declared layer-client-parent-unsampled layer-client-declared.
#
# LAYER_RANDOM=1 gives the layer cases a caller that sets the random flag, as
# otel-tonic's own client does.
#
# KEEP=dir keeps the callgrind files (for callgrind_annotate --inclusive=yes).
set -eu
LOW=${LOW:-2000}
HIGH=${HIGH:-6000}
. "$(dirname "$0")/common.sh"
if [ -n "${KEEP:-}" ]; then
    OUT=$KEEP
    mkdir -p "$OUT"
else
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi
count() { # case calls -> instructions of every thread of the process
    case $1 in
    layer-*)
        [ -x "$LAYER" ] || { echo "build first: cargo bench -p otel-tonic --bench layer_cost --no-run" >&2; exit 1; }
        LAYER_CASE=${1#layer-} LAYER_CALLS=$2 valgrind --tool=callgrind \
            --callgrind-out-file="$OUT/$1.$2" "$LAYER" >/dev/null 2>&1 ;;
    *)
        [ -x "$UNARY" ] || { echo "build first: cargo bench -p otel-tonic --bench unary --no-run" >&2; exit 1; }
        LOAD_CASE=$1 LOAD_CALLS=$2 valgrind --tool=callgrind \
            --callgrind-out-file="$OUT/$1.$2" "$UNARY" >/dev/null 2>&1 ;;
    esac
    sed -n 's/^summary: //p' "$OUT/$1.$2"
}
per_call() { # case -> instructions per call
    a=$(count "$1" "$LOW"); b=$(count "$1" "$HIGH")
    echo $(( (b - a) / (HIGH - LOW) ))
}
printf '%-30s %10s %9s %8s\n' case instr/call added "x bare"
for case in ${*:-ours-sampled ours-unsampled ours-no-metrics peer}; do
    baseline "$(base_of "$case")"
    if [ "$bare_new" = 1 ]; then
        printf '%-30s %10d\n' "$(base_of "$case")" "$bare"
    fi
    total=$(per_call "$case")
    printf '%-30s %10d %+9d %8s\n' "$case" "$total" $(( total - bare )) \
        "$(awk -v o="$total" -v b="$bare" 'BEGIN { printf "%.3f", o / b }')"
done
