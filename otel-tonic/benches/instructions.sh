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
# ours-declared ours-off peer bare-traceparent (bare tonic sending a
# traceparent: the HTTP/2 floor) minimal-declared (the API minimum:
# benches/support/minimal.rs). Scheduling under 32 callers moves these by a few thousand per
# call between runs.
#
# The layers alone (the `layer_cost` bench: each layer around a stub service,
# no I/O, one thread; the stub alone is subtracted; the same to the
# instruction between runs): layer-server-sampled layer-server-unsampled
# layer-client-sampled layer-client-unsampled, and on the global provider
# with otel-init's default sampler and an unsampled parent, without and with
# otel-init's declaration (otel_http::sampling): layer-server-parent-unsampled
# layer-server-declared layer-client-parent-unsampled layer-client-declared;
# and with no caller's context under `always_off` as otel-init declares it:
# layer-server-root layer-client-root; the API minimum (benches/support/
# minimal.rs) with the -declared cases' provider and parent:
# layer-server-minimal layer-client-minimal.
#
# LAYER_RANDOM=1 gives the layer cases a caller that sets the random flag, as
# otel-tonic's own client does.
#
# For the whole-process cases, each end's share is printed too: callgrind
# counts each thread apart, and the bench runs the client on its main thread
# (callgrind's thread 1) and the server on the thread it starts (thread 2).
#
# KEEP=dir keeps the callgrind files (for callgrind_annotate --inclusive=yes);
# a whole-process case's are one per thread, CASE.CALLS-01 the client's and
# CASE.CALLS-02 the server's.
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
        LOAD_CASE=$1 LOAD_CALLS=$2 valgrind --tool=callgrind --separate-threads=yes \
            --callgrind-out-file="$OUT/$1.$2" "$UNARY" >/dev/null 2>&1 ;;
    esac
    # Every thread's count, then the client's (thread 1) and the server's
    # (thread 2); a layer case has one file and no ends.
    if [ -s "$OUT/$1.$2" ]; then
        echo "$(sed -n 's/^summary: //p' "$OUT/$1.$2") 0 0"
    else
        cat "$OUT/$1.$2"-* | sed -n 's/^summary: //p' | awk '{ all += $1 } END { printf "%d ", all }'
        echo "$(sed -n 's/^summary: //p' "$OUT/$1.$2-01") $(sed -n 's/^summary: //p' "$OUT/$1.$2-02")"
    fi
}
per_call() { # case -> instructions per call: every thread's, the server's, the client's
    set -- "$1" $(count "$1" "$LOW") $(count "$1" "$HIGH")
    n=$((HIGH - LOW))
    echo "$(( ($5 - $2) / n )) $(( ($7 - $4) / n )) $(( ($6 - $3) / n ))"
}
printf '%-30s %10s %9s %8s %9s %9s\n' case instr/call added "x bare" server client
for case in ${*:-ours-sampled ours-unsampled ours-no-metrics peer}; do
    baseline "$(base_of "$case")"
    set -- $bare
    if [ "$bare_new" = 1 ]; then
        printf '%-30s %10d\n' "$(base_of "$case")" "$1"
    fi
    set -- $(per_call "$case") "$@"
    ends=""
    if [ "$2$3" != 00 ]; then
        ends=$(printf '%+9d %+9d' $(( $2 - $5 )) $(( $3 - $6 )))
    fi
    printf '%-30s %10d %+9d %8s %s\n' "$case" "$1" $(( $1 - $4 )) \
        "$(awk -v o="$1" -v b="$4" 'BEGIN { printf "%.3f", o / b }')" "$ends"
done
