#!/usr/bin/env bash
# Secrets in a real terminal (issue 9, item 5): a passcode asked for by
# `connect --login` is not echoed, appears nowhere on the screen (not in the
# prompt, `status` or `--trace` output), and a line typed with a passcode is
# not written to the history file while the other lines are.
#
# Needs: tmux, ActiveMQ at $STOMPSH_TEST_ACTIVEMQ (it accepts any login; see
# scripts/brokers env). Skips when the broker is not configured, unless
# STOMPSH_REQUIRE_BROKERS=1.
# Binary: $STOMPSH_BIN, else $STOMPSH_BIN_DIR/stompsh, else .build/debug/stompsh.
set -uo pipefail

NAME=tmux_secrets
PANE_SCROLLBACK=1   # the whole pane including scroll-back
. "$(dirname "${BASH_SOURCE[0]}")/lib/tmux.sh"

ASKED=Asked-S3cret-$TAG      # typed at the no-echo prompt
TYPED=Typed-S3cret-$TAG      # typed on a command line with --passcode
type_line() { T send-keys -t t -l "$1"; T send-keys -t t Enter; }

T -f /dev/null new-session -d -s t -x 120 -y 40 \
    "env HOME='$TMP' STOMPSH_HISTFILE='$TMP/history' EDITRC=/dev/null NO_COLOR=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 \
     '$BIN' --trace; echo \"[stompsh exited: \$?]\"; sleep 600" ||
    fail "cannot start tmux"
wait_for 30 "the first prompt" at_prompt

# --- asked without echo ------------------------------------------------------------
type_line "connect --login alice $URL"
wait_for 15 "the passcode prompt" pane_has "passcode for alice@"
T send-keys -t t -l "$ASKED"
sleep 0.3
pane_has "$ASKED" && fail "the passcode is echoed while typed"
T send-keys -t t Enter
wait_for 15 "connected" pane_has "connected to "
wait_for 10 "the prompt after connect" at_prompt
pane_has "passcode:****" || fail "the trace does not show the CONNECT passcode masked"
type_line "status"
wait_for 10 "status output" pane_has "heart-beats"
echo "$NAME: ok: the asked passcode was not echoed; trace shows passcode:****"

# --- typed with --passcode: runs, never stored --------------------------------------
type_line "connect --login alice --passcode $TYPED $URL"
wait_for 15 "the second connect" eval '[[ $(pane | grep -c "^connected to ") -ge 2 ]]'
type_line "echo done-$TAG"
wait_for 10 "echo output" eval '[[ $(pane | grep -cF -- "done-$TAG") -ge 2 ]]'
SCREEN=$(pane)
[[ $(grep -cF -- "$TYPED" <<<"$SCREEN") == 1 ]] || fail "the typed passcode shows beyond the line typed"
grep -qF -- "$ASKED" <<<"$SCREEN" && fail "the asked passcode appears on the screen"

T send-keys -t t C-d
wait_for 15 "stompsh to exit" pane_has "[stompsh exited: 0]"
[[ -f $TMP/history ]] || fail "no history file"
grep -qxF -- "connect --login alice $URL" "$TMP/history" || fail "the history lacks the line without a passcode"
grep -qxF -- "echo done-$TAG" "$TMP/history" || fail "the history lacks the echo line"
grep -qF -- "$TYPED" "$TMP/history" && fail "the line with --passcode went into the history"
grep -qF -- "$ASKED" "$TMP/history" && fail "the asked passcode went into the history"
echo "$NAME: ok: the history holds the other lines, not the passcode line"
echo "$NAME: PASS"
