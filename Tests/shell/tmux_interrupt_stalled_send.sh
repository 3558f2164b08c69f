#!/usr/bin/env bash
# Ctrl-C in the REPL ends a `send` stalled on a broker that stopped reading (no heart-beats agreed): a peer
# (python, below) answers CONNECT and never reads again; `repeat 40 send Q --file 1MiB` fills the socket
# buffers; C-c must bring "error: interrupted" and the prompt back at once, well before the 10 s write stall
# timeout that would otherwise end the wait.
#
# Needs: tmux, python3. Uses the harness (tmux.sh), which skips without ActiveMQ configured unless
# STOMPSH_REQUIRE_BROKERS=1 (no broker is used here).
set -uo pipefail

NAME=tmux_interrupt_stalled_send
. "$(dirname "${BASH_SOURCE[0]}")/lib/tmux.sh"

python3 - "$TMP/port" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(60)
conns = []
try:
    while True:
        c, _ = s.accept()
        data = b""
        while b"\0" not in data:
            data += c.recv(65536)
        c.sendall(b"CONNECTED\nversion:1.2\nserver:stuck/1\nheart-beat:0,0\n\n\0")
        conns.append(c)   # never read again
except socket.timeout:
    pass
PY
PEER=$!
trap 'kill $PEER 2>/dev/null; tmux_cleanup' EXIT
for ((i = 0; i < 50; i++)); do [[ -s $TMP/port ]] && break; sleep 0.1; done
[[ -s $TMP/port ]] || fail "the peer did not start"
head -c 1048576 /dev/zero | tr '\0' b >"$TMP/body"

T -f /dev/null new-session -d -s t -x 160 -y 20 \
    "env HOME=$TMP NO_COLOR=1 $BIN --no-reconnect stomp://127.0.0.1:$(cat "$TMP/port")"
wait_for 10 "the connected prompt" bash -c "[[ \$(tmux -L $SOCK capture-pane -p -t t) == *'1.2>'* ]]"
T send-keys -t t "repeat 40 send /queue/stall --file $TMP/body" Enter
sleep 3
pane_has "error:" && fail "the send ended before Ctrl-C (the buffers did not fill?)"
T send-keys -t t C-c
wait_for 2 "error: interrupted after C-c" bash -c "[[ \$(tmux -L $SOCK capture-pane -p -t t) == *'error: interrupted'* ]]"
wait_for 2 "the prompt back" bash -c "[[ \$(tmux -L $SOCK capture-pane -p -t t | sed -e 's/[[:space:]]*\$//' | awk 'NF { l = \$0 } END { print l }') == *'1.2>' ]]"
pane_has "stopped reading" && fail "the stall timeout ended it, not C-c"
T send-keys -t t C-d
echo "$NAME: ok"
