#!/usr/bin/env bash
# The try-out path needs nothing installed: scripts/demo (what `scripts/run` runs with no URL) starts the
# in-memory sandbox broker with `stompsh --sandbox`, serves RPC calls there and runs examples/demo.stompsh.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=sandbox_demo
BIN=${STOMPSH_BIN:-${STOMPSH_BIN_DIR:-$REPO/.build/debug}/stompsh}
[[ -x $BIN ]] || { echo "$NAME: FAIL: no binary at $BIN" >&2; exit 1; }
FAILS=0
fail() { echo "$NAME: FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

out=$(HOME=$(mktemp -d) NO_COLOR=1 timeout 120 "$REPO/scripts/demo" "$BIN" 2>&1) || fail "scripts/demo exited $?"
expect() { grep -qF -- "$1" <<<"$out" || fail "demo output lacks: $1"; }
expect "in-memory sandbox broker on 127.0.0.1:"
expect "(STOMP 1.2, stompsh-sandbox/"
expect "order "
expect "committed t1"
expect "add(numbers: number...) -> number"
expect "3.5"
expect '"rpc":"sleep","result":20'
expect "served 4 calls"
if ((FAILS)); then printf '%s\n' "$out" | sed 's/^/| /' >&2; fi
((FAILS == 0)) && echo "$NAME: ok"
((FAILS == 0))
