#!/bin/sh
# Cache lines per unary call, counted by cachegrind's cache simulation: what
# a call costs when the caches are cold, which instruction counts do not
# show. In a real server, hyper, h2, tokio and the handler run between two
# calls of a layer and push its code and data out of the first-level
# caches, so each line the layer touches is fetched again on every call.
#
#   cargo bench -p otel-tonic --bench unary --bench layer_cost --no-run
#   sh otel-tonic/benches/cache_lines.sh [cases...]
#
# Cases as in instructions.sh. Each runs LOW and HIGH calls; the difference
# divided by HIGH-LOW removes start-up costs, and the bare case is
# subtracted.
#
# The layers alone (layer-* cases) run with tiny fully associative caches
# (128 lines of 64 bytes each for code and for data, least recently used
# out): a call whose lines do not all fit evicts each before it comes round
# again, so the misses per call are about the distinct lines it touches, its
# footprint. The whole-process cases run with the first-level caches of the
# machines measured here (32 KiB, 8-way, for code and for data) and a 512 KiB
# last level (a core's L2): both threads share them under valgrind, so the
# figures compare instrumentations, they do not predict a machine's misses.
set -eu
LOW=${LOW:-1000}
HIGH=${HIGH:-3000}
. "$(dirname "$0")/common.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
count() { # case calls -> "code-lines data-read-lines data-write-lines"
    case $1 in
    layer-*)
        [ -x "$LAYER" ] || { echo "build first: cargo bench -p otel-tonic --bench layer_cost --no-run" >&2; exit 1; }
        LAYER_CASE=${1#layer-} LAYER_CALLS=$2 valgrind --tool=cachegrind --cache-sim=yes \
            --I1=8192,128,64 --D1=8192,128,64 --LL=8388608,16,64 \
            --cachegrind-out-file="$OUT/$1.$2" "$LAYER" >/dev/null 2>&1 ;;
    *)
        [ -x "$UNARY" ] || { echo "build first: cargo bench -p otel-tonic --bench unary --no-run" >&2; exit 1; }
        LOAD_CASE=$1 LOAD_CALLS=$2 valgrind --tool=cachegrind --cache-sim=yes \
            --I1=32768,8,64 --D1=32768,8,64 --LL=524288,8,64 \
            --cachegrind-out-file="$OUT/$1.$2" "$UNARY" >/dev/null 2>&1 ;;
    esac
    # events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
    sed -n 's/^summary: //p' "$OUT/$1.$2" | awk '{ print $2, $5, $8 }'
}
per_call() { # case -> "code data-read data-write" misses per call
    a=$(count "$1" "$LOW"); b=$(count "$1" "$HIGH")
    echo "$a $b" | awk -v n=$((HIGH - LOW)) '{ printf "%d %d %d", ($4 - $1) / n, ($5 - $2) / n, ($6 - $3) / n }'
}
printf '%-30s %8s %8s %8s %9s\n' case code "data rd" "data wr" "added"
for case in ${*:-layer-server-sampled layer-server-declared layer-client-sampled layer-client-declared}; do
    baseline "$(base_of "$case")"
    if [ "$bare_new" = 1 ]; then
        echo "$(base_of "$case") $bare" | awk '{ printf "%-30s %8d %8d %8d\n", $1, $2, $3, $4 }'
    fi
    echo "$case $(per_call "$case") $bare" | awk '{ printf "%-30s %8d %8d %8d %+9d\n", $1, $2, $3, $4, ($2 + $3 + $4) - ($5 + $6 + $7) }'
done
