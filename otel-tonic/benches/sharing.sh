#!/bin/sh
# What sharing one layer between the threads of a process costs per call:
# the workers of a multi-threaded runtime serve their connections through
# services of the same layer, so whatever a call writes in the layer's
# state (a lock's count, a reference count, a histogram's series) moves
# between their cores on every call. Each round runs the `layer_cost` case
# once as THREADS threads of one process sharing the layer
# (`LAYER_THREADS`) and once as THREADS processes of one thread each, at the
# same time (the same load on the cores, nothing shared); prints the medians
# of the per-call times and of the per-round differences.
#
#   cargo bench -p otel-tonic --bench layer_cost --no-run
#   sh otel-tonic/benches/sharing.sh [cases...]
#
# Cases as in layer_time.sh (server-declared, client-sampled, ...);
# LAYER_RANDOM=1 as there. THREADS=2, ROUNDS=7, CALLS=150000 by default.
set -eu
CALLS=${CALLS:-150000}
ROUNDS=${ROUNDS:-7}
THREADS=${THREADS:-2}
. "$(dirname "$0")/timing.sh"
[ $# -gt 0 ] || set -- server-declared client-declared server-sampled client-sampled
# The mean of the lines' ns per call.
mean() { sed -n 's/.*, \([0-9.]*\) ns per call/\1/p' | awk '{ s += $1; n++ } END { printf "%.0f", s / n }'; }
shared() { LAYER_THREADS=$THREADS LAYER_CASE=$1 LAYER_CALLS=$CALLS "$LAYER" | mean; }
apart() {
    i=0
    while [ $i -lt "$THREADS" ]; do
        LAYER_CASE=$1 LAYER_CALLS=$CALLS "$LAYER" &
        i=$((i + 1))
    done | mean
    wait
}
printf '%-26s %12s %12s %12s\n' case "shared ns" "apart ns" "added ns"
for case in "$@"; do
    diffs=""; shares=""; aparts=""
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        a=$(apart "$case"); s=$(shared "$case")
        diffs="$diffs $((s - a))"
        shares="$shares $s"; aparts="$aparts $a"
        i=$((i + 1))
    done
    row "$case" 12 "$shares" "$aparts" "$diffs"
done
