#!/usr/bin/env bash
# The prompt follows an asynchronous disconnect (issue 14, item 8): stompsh runs in tmux, connected with
# --no-reconnect to its own sandbox broker; the broker is stopped while the user types nothing; the prompt must
# change to "(not connected)>" at once, not at the next command.
#
# Needs: tmux. Uses the harness (tmux.sh), which skips without ActiveMQ configured unless
# STOMPSH_REQUIRE_BROKERS=1; the broker here is the sandbox (`stompsh broker`).
set -uo pipefail

NAME=tmux_prompt_after_loss
. "$(dirname "${BASH_SOURCE[0]}")/lib/tmux.sh"

"$BIN" broker --port 0 >"$TMP/broker.log" 2>&1 &
BROKER=$!
for ((i = 0; i < 50; i++)); do grep -q 'listening on' "$TMP/broker.log" && break; sleep 0.1; done
SANDBOX=$(grep -o 'stomp://[0-9.]*:[0-9]*' "$TMP/broker.log" | head -1)
[[ -n $SANDBOX ]] || { kill "$BROKER" 2>/dev/null; fail "sandbox broker did not start: $(cat "$TMP/broker.log")"; }

T -f /dev/null new-session -d -s t -x 120 -y 20 \
    "env HOME=$TMP NO_COLOR=1 $BIN --no-reconnect $SANDBOX"
wait_for 10 "the connected prompt" bash -c "[[ \$(tmux -L $SOCK capture-pane -p -t t) == *'1.2> '* ]] || [[ \$(tmux -L $SOCK capture-pane -p -t t) == *'1.2>'* ]]"

kill "$BROKER"
wait "$BROKER" 2>/dev/null
wait_for 3 "the prompt to say (not connected) without a key pressed" bash -c \
    "[[ \$(tmux -L $SOCK capture-pane -p -t t | sed -e 's/[[:space:]]*\$//' | awk 'NF { l = \$0 } END { print l }') == '(not connected)>' ]]"
pane_has "connection lost for good" || fail "the loss is not reported"
T send-keys -t t C-d
echo "$NAME: ok"
