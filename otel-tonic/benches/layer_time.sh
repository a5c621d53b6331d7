#!/bin/sh
# Wall-clock time per call of each layer alone (the `layer_cost` bench: the
# layer around a stub service, one thread, no I/O), against the stub alone.
# ROUNDS rounds, each running `bare` (or `bare-client` for client cases) and
# the case alternately, CALLS calls per run; prints the median of the
# per-round differences. Unlike the whole-process bench, nothing here waits on
# the loopback or the other end, so the figures hold to a few ns.
#
#   cargo bench -p otel-tonic --bench layer_cost --no-run
#   sh otel-tonic/benches/layer_time.sh [cases...]
#
# Cases as in instructions.sh, without the `layer-` prefix (server-sampled,
# server-declared, client-sampled, ...). LAYER_RANDOM=1 as there.
set -eu
CALLS=${CALLS:-300000}
ROUNDS=${ROUNDS:-7}
. "$(dirname "$0")/timing.sh"
[ $# -gt 0 ] || set -- server-sampled server-unsampled server-declared client-sampled client-unsampled client-declared
ns() { LAYER_CASE=$1 LAYER_CALLS=$CALLS "$LAYER" | sed -n 's/.*, \([0-9.]*\) ns per call/\1/p'; }
printf '%-26s %10s %10s %10s\n' case "ns/call" "bare" "added ns"
for case in "$@"; do
    case $case in client-*|server-root) bare=bare-client ;; *) bare=bare ;; esac
    diffs=""; cases=""; bares=""
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        b=$(ns $bare); c=$(ns "$case")
        diffs="$diffs $(echo "$c - $b" | bc)"
        cases="$cases $c"; bares="$bares $b"
        i=$((i + 1))
    done
    row "$case" 10 "$cases" "$bares" "$diffs"
done
