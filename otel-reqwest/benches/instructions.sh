#!/bin/sh
# Instructions per call on the client thread (user space, counted by callgrind:
# deterministic, unlike timings on a shared machine), for each case of the
# `client` bench against a bare reqwest::Client in the same binary.
#
#   cargo bench -p otel-reqwest --bench client --no-run
#   sh otel-reqwest/benches/instructions.sh [cases...]
#
# Each case runs LOW and HIGH calls (after 2000 warm-up calls); the difference
# divided by HIGH-LOW removes start-up costs. In a run of a case the bench
# also runs the bare client twice (before and after), subtracted here.
#
# NOIO=1: the middleware alone instead, every call ending in a canned
# response (no socket, no other thread): instructions per call of the client
# thread, repeatable to a few instructions, unlike the loopback runs, whose
# counts move by about 1 000 with how the two threads' wake-ups fall.
set -eu
if [ "${NOIO:-0}" = 1 ]; then
    BIN=${BIN:-$(ls -t target/release/deps/client-* 2>/dev/null | grep -v '\.d$' | head -1)}
    [ -x "$BIN" ] || { echo "build first: cargo bench -p otel-reqwest --bench client --no-run" >&2; exit 1; }
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
    noio() { # case calls -> instructions of the process (bare's run, then the case's)
        LOAD_SECS=0 NOIO_CALLS=$2 LOAD_CASES=$1 valgrind --tool=callgrind \
            --callgrind-out-file="$OUT/$1.$2" "$BIN" --bench >/dev/null 2>&1
        sed -n 's/^summary: //p' "$OUT/$1.$2"
    }
    # Each run makes NOIO_CALLS/10 warm-up calls and NOIO_CALLS calls.
    per_call() { a=$(noio "$1" 5000); b=$(noio "$1" 15000); echo $(( (b - a) / 11000 )); }
    bare=$(per_call bare)
    printf '%-14s %8s %9s\n' case instr/call "added"
    printf '%-14s %8d\n' canned "$bare"
    for case in ${*:-floor sampled unsampled traces-only peer}; do
        own=$(( $(per_call "$case") - bare ))
        printf '%-14s %8d %+9d\n' "$case" "$own" $(( own - bare ))
    done
    exit 0
fi
LOW=${LOW:-2000}
HIGH=${HIGH:-10000}
BIN=${BIN:-$(ls -t target/release/deps/client-* 2>/dev/null | grep -v '\.d$' | head -1)}
[ -x "$BIN" ] || { echo "build first: cargo bench -p otel-reqwest --bench client --no-run" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
count() { # case calls -> instructions of the client (main) thread
    LOAD_CALLS=$2 LOAD_ROUNDS=1 NOIO_CALLS=10 LOAD_CASES=$1 valgrind --tool=callgrind \
        --separate-threads=yes --callgrind-out-file="$OUT/$1.$2" "$BIN" --bench >/dev/null 2>&1
    sed -n 's/^summary: //p' "$OUT/$1.$2-01"
}
per_call() { # case -> instructions per call of every client run in it
    a=$(count "$1" "$LOW"); b=$(count "$1" "$HIGH")
    echo $(( (b - a) / (HIGH - LOW) ))
}
bare=$(per_call bare)
printf '%-14s %8s %9s %8s\n' case instr/call added "x bare"
printf '%-14s %8d\n' bare "$bare"
for case in ${*:-empty pass-through sampled unsampled traces-only peer}; do
    total=$(per_call "$case")
    own=$(( total - 2 * bare ))
    printf '%-14s %8d %+9d %8s\n' "$case" "$own" $(( own - bare )) \
        "$(awk -v o="$own" -v b="$bare" 'BEGIN { printf "%.3f", o / b }')"
done
