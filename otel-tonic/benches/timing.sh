# What layer_time.sh and sharing.sh share (sourced, not run): the
# `layer_cost` binary, and a row of medians of per-round figures.

TARGET=${CARGO_TARGET_DIR:-target}
LAYER=${LAYER:-$(ls -t "$TARGET"/release/deps/layer_cost-* 2>/dev/null | grep -v '\.d$' | head -1)}
[ -x "$LAYER" ] || { echo "build first: cargo bench -p otel-tonic --bench layer_cost --no-run" >&2; exit 1; }

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# row CASE WIDTH "FIGURES..." "FIGURES..." "DIFFERENCES...": the case, the
# medians of the first two lists, and the signed median of the last.
row() {
    printf "%-26s %${2}s %${2}s %+${2}s\n" "$1" \
        "$(echo "$3" | median)" "$(echo "$4" | median)" "$(echo "$5" | median)"
}
