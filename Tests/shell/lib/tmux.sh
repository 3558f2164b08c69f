# Shared harness for the tmux tests (sourced, not run): stompsh in a real terminal, driven with send-keys and
# read with capture-pane. The sourcing script sets NAME, and PANE_SCROLLBACK=1 if `pane` should include the
# scroll-back. Provides: REPO, BIN, URL (ActiveMQ), TAG, SOCK, TMP, skip, fail, T (tmux on our socket), pane,
# last_line, wait_for, at_prompt, pane_has. STOMPSH_TMUX_KEEP=1 keeps the tmux server for inspection.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

skip() { echo "$NAME: skip: $*"; exit 0; }
fail() {
    echo "$NAME: FAIL: $*" >&2
    if [[ -n ${SOCK:-} ]]; then
        echo "--- pane ---" >&2
        pane 2>/dev/null | sed 's/^/| /' >&2
        echo "------------" >&2
    fi
    exit 1
}

if [[ -z ${STOMPSH_TEST_ACTIVEMQ:-} ]]; then
    [[ ${STOMPSH_REQUIRE_BROKERS:-} == 1 ]] && fail "STOMPSH_TEST_ACTIVEMQ is not set"
    skip "STOMPSH_TEST_ACTIVEMQ is not set (eval \"\$(scripts/brokers env)\")"
fi
command -v tmux >/dev/null || fail "tmux is not installed"

BIN=${STOMPSH_BIN:-}
[[ -n $BIN ]] || { [[ -n ${STOMPSH_BIN_DIR:-} ]] && BIN=$STOMPSH_BIN_DIR/stompsh; }
[[ -n $BIN ]] || BIN=$REPO/.build/debug/stompsh
[[ -x $BIN ]] || fail "stompsh binary not found: $BIN (swift build first)"

URL=$STOMPSH_TEST_ACTIVEMQ
TAG=$$.$RANDOM
SOCK=stompsh-$NAME-$TAG
TMP=$(mktemp -d "/tmp/stompsh-$NAME.XXXXXX")

tmux_cleanup() {
    if [[ ${STOMPSH_TMUX_KEEP:-} == 1 ]]; then
        echo "$NAME: tmux server kept: tmux -L $SOCK attach"
    else
        tmux -L "$SOCK" kill-server 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap tmux_cleanup EXIT

T() { tmux -L "$SOCK" "$@"; }
pane() {
    if [[ ${PANE_SCROLLBACK:-} == 1 ]]; then T capture-pane -p -S - -t t; else T capture-pane -p -t t; fi
}
# The last non-blank line of the pane.
last_line() { pane | sed -e 's/[[:space:]]*$//' | awk 'NF { l = $0 } END { print l }'; }

# wait_for SECONDS DESCRIPTION CMD...: retry CMD every 0.1 s.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "timed out after ${secs}s waiting for: $what"
}
at_prompt() { [[ $(last_line) =~ \>$ ]]; }
pane_has() { pane | grep -qF -- "$1"; }
