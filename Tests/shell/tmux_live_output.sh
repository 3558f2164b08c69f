#!/usr/bin/env bash
# Live output in a real terminal (issue 4, item 4): stompsh runs in tmux,
# subscribes to a queue, the user types half a command, another process sends
# messages to the queue; the messages must appear ABOVE the prompt and the
# half-typed line must stay intact on the prompt line. Then the line is
# finished and sent, Ctrl-C discards a line without ending the session, and
# Ctrl-D ends it.
#
# Needs: tmux, python3 with stomp.py, ActiveMQ at $STOMPSH_TEST_ACTIVEMQ
# (stomp://HOST:PORT; scripts/brokers env). Skips when the broker is not
# configured, unless STOMPSH_REQUIRE_BROKERS=1.
# Binary: $STOMPSH_BIN, else $STOMPSH_BIN_DIR/stompsh, else .build/debug/stompsh.
# STOMPSH_TMUX_KEEP=1 keeps the tmux server for inspection:
#   tmux -L <socket printed at the end> attach
set -uo pipefail

NAME=tmux_live_output
. "$(dirname "${BASH_SOURCE[0]}")/lib/tmux.sh"
python3 -c 'import stomp' 2>/dev/null || fail "python3 stomp.py is not installed"

QX=/queue/stompsh.tmux.x.$TAG     # subscribed in the shell; messages arrive here
QY=/queue/stompsh.tmux.y.$TAG     # the half-typed send goes here
HALF="send $QY hel"
COLS=120
ROWS=40

cursor() { T display-message -p -t t '#{cursor_x} #{cursor_y}'; }
last_line_is() { [[ $(last_line) == *"$1" ]]; }

# Python helpers (stomp.py), independent of stompsh.
broker_py() {
    python3 - "$URL" "$@" <<'EOF'
import sys, time, re, stomp
url, op, dest = sys.argv[1], sys.argv[2], sys.argv[3]
m = re.match(r'^stomp://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/]+)(?::(\d+))?', url)
login, passcode, host, port = m.group(1), m.group(2), m.group(3), int(m.group(4) or 61613)
c = stomp.Connection([(host, port)], heartbeats=(0, 0))
if op == "send":
    c.connect(login, passcode, wait=True)
    for body in sys.argv[4:]:
        c.send(destination=dest, body=body)
        time.sleep(0.3)
    c.disconnect()
elif op == "receive":
    got = []
    class L(stomp.ConnectionListener):
        def on_message(self, frame):
            got.append(frame.body)
    c.set_listener("", L())
    c.connect(login, passcode, wait=True)
    c.subscribe(destination=dest, id="1", ack="auto")
    deadline = time.time() + float(sys.argv[4])
    while not got and time.time() < deadline:
        time.sleep(0.05)
    c.disconnect()
    print(got[0] if got else "<nothing>")
EOF
}

# --- start stompsh in a terminal --------------------------------------------
T -f /dev/null new-session -d -s t -x "$COLS" -y "$ROWS" \
    "env HOME='$TMP' STOMPSH_HISTFILE='$TMP/history' EDITRC=/dev/null NO_COLOR=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 \
     '$BIN' '$URL'; echo \"[stompsh exited: \$?]\"; sleep 600" ||
    fail "cannot start tmux"
T set-option -t t remain-on-exit on >/dev/null

wait_for 30 "the first prompt" at_prompt
PROMPT=$(last_line)
echo "$NAME: prompt: '$PROMPT'"

T send-keys -t t -l "subscribe $QX"
T send-keys -t t Enter
sleep 1
wait_for 10 "the prompt after subscribe" at_prompt

# --- half a command, then messages arrive --------------------------------------
T send-keys -t t -l "$HALF"
wait_for 10 "the half-typed line" last_line_is "$HALF"

BODIES=(live-one-$TAG live-two-$TAG live-three-$TAG)
broker_py send "$QX" "${BODIES[@]}" || fail "python sender failed"
for b in "${BODIES[@]}"; do wait_for 20 "message $b on screen" pane_has "$b"; done
sleep 0.5

SCREEN=$(pane | sed -e 's/[[:space:]]*$//')
LAST=$(last_line)
[[ $LAST == *"$HALF" ]] || fail "the prompt line is not intact after live output: '$LAST'"
[[ $LAST == "${PROMPT%>}"* ]] || fail "the prompt line does not start with the prompt: '$LAST'"
LAST_N=$(awk 'NF { n = NR } END { print n }' <<<"$SCREEN")
for b in "${BODIES[@]}"; do
    n=$(grep -nF -- "$b" <<<"$SCREEN" | tail -n 1 | cut -d: -f1)
    ((n < LAST_N)) || fail "message $b is not above the prompt (line $n, prompt line $LAST_N)"
done
HALF_COUNT=$(grep -cF -- "$HALF" <<<"$SCREEN")
((HALF_COUNT == 1)) || fail "the half-typed line appears $HALF_COUNT times (garbled redraw)"
read -r CX CY < <(cursor)
((CY == LAST_N - 1)) || fail "the cursor is on row $CY, not on the prompt row $((LAST_N - 1))"
((CX == ${#LAST})) || fail "the cursor is at column $CX, not at the end of the line (${#LAST})"
echo "$NAME: ok: ${#BODIES[@]} messages printed above '$LAST'"

# --- finish the line: it is sent as typed ------------------------------------------
T send-keys -t t -l "lo"
T send-keys -t t Enter
GOT=$(broker_py receive "$QY" 15)
[[ $GOT == hello ]] || fail "the finished line did not send 'hello' to $QY (got '$GOT')"
wait_for 10 "the prompt after send" at_prompt
echo "$NAME: ok: the finished line sent 'hello'"

# --- Ctrl-C discards the line, the session goes on --------------------------
T send-keys -t t -l "status but not this"
wait_for 10 "typed text" last_line_is "status but not this"
T send-keys -t t C-c
wait_for 10 "a fresh prompt after Ctrl-C" at_prompt
pane_has "[stompsh exited" && fail "Ctrl-C ended the session"
T send-keys -t t -l "echo still-alive-$TAG"
T send-keys -t t Enter
wait_for 10 "echo output after Ctrl-C" eval '[[ $(pane | grep -cF -- "still-alive-$TAG") -ge 2 ]]'
echo "$NAME: ok: Ctrl-C discarded the line and the session went on"

# --- history file ----------------------------------------------------------------
grep -qxF -- "send $QY hello" "$TMP/history" 2>/dev/null ||
    fail "the history file lacks the sent line"
[[ $(stat -c %a "$TMP/history") == 600 ]] || fail "the history file is not mode 0600"
grep -qF -- "status but not this" "$TMP/history" && fail "an interrupted line went into the history"

# --- Ctrl-D on an empty line ends the session --------------------------------
T send-keys -t t C-d
wait_for 15 "stompsh to exit on Ctrl-D" pane_has "[stompsh exited: 0]"
echo "$NAME: ok: Ctrl-D ended the session with status 0"
echo "$NAME: PASS"
