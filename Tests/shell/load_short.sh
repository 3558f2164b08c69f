#!/usr/bin/env bash
# Load, short (issue 9): one stompsh session publishes and consumes 50,000 messages on ActiveMQ in 5 chunks
# with flat memory (bench/load.sh; the 1,000,000-message run is `bench/load.sh URL` with a release build).
# Needs $STOMPSH_TEST_ACTIVEMQ (scripts/brokers env); skips without it unless STOMPSH_REQUIRE_BROKERS=1.
# Binary: $STOMPSH_BIN, else $STOMPSH_BIN_DIR/stompsh, else .build/debug/stompsh.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=load_short
BIN=${STOMPSH_BIN:-${STOMPSH_BIN_DIR:-$REPO/.build/debug}/stompsh}
[[ -x $BIN ]] || { echo "$NAME: FAIL: no binary at $BIN" >&2; exit 1; }
if [[ -z ${STOMPSH_TEST_ACTIVEMQ:-} ]]; then
    [[ ${STOMPSH_REQUIRE_BROKERS:-} == 1 ]] && { echo "$NAME: FAIL: no ActiveMQ configured" >&2; exit 1; }
    echo "$NAME: skip: no ActiveMQ (eval \"\$(scripts/brokers env)\")"; exit 0
fi
exec timeout 120 "$REPO/bench/load.sh" -n 50000 -c 10000 --max-growth 10 --bin "$BIN" "$STOMPSH_TEST_ACTIVEMQ"
