# What instructions.sh and cache_lines.sh share (sourced, not run): the
# bench binaries, valgrind, which case each case is measured against, and
# that case's figures measured once per run. The sourcing script defines
# per_call CASE.

TARGET=${CARGO_TARGET_DIR:-target}
newest() { ls -t "$TARGET"/release/deps/"$1"-* 2>/dev/null | grep -v '\.d$' | head -1; }
UNARY=${UNARY:-$(newest unary)}
LAYER=${LAYER:-$(newest layer_cost)}
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }

# base_of CASE: the bare case CASE is measured against.
base_of() {
    case $1 in
    layer-client-*|layer-server-root) echo layer-bare-client ;;
    layer-*) echo layer-bare ;;
    *) echo bare ;;
    esac
}

# baseline BASE: sets $bare to `per_call BASE`, measured the first time only,
# and $bare_new to 1 that first time (for the caller to print it), else 0.
baseline() {
    key=baseline_$(echo "$1" | tr - _)
    eval "bare=\${$key:-}"
    bare_new=0
    if [ -z "$bare" ]; then
        bare=$(per_call "$1")
        eval "$key=\$bare"
        bare_new=1
    fi
}
