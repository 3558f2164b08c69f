#!/usr/bin/env bash
# RPC benchmark, stompsh next to stomp.py on the same broker in one run.
#   Tests/python/rpc_compare.sh [STOMPSH_BINARY] [URL]
# Defaults: .build/release/stompsh, $STOMPSH_TEST_ACTIVEMQ or stomp://127.0.0.1:61613.
# Prints: sequential p50 (ms) and -c 32 calls/s for stomp.py caller→stomp.py responder and
# stompsh rpc bench→stompsh rpc serve, and the ratios.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${1:-$HERE/../../.build/release/stompsh}
URL=${2:-${STOMPSH_TEST_ACTIVEMQ:-stomp://127.0.0.1:61613}}
SEQ_N=${SEQ_N:-2000}
CONC_N=${CONC_N:-20000}
PY_CONC_N=${PY_CONC_N:-5000}
TAG=$RANDOM$RANDOM
PY=$HERE/rpc_peer.py
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(eval('d'+sys.argv[1]))" "$1"; }

# stomp.py responder, stomp.py caller
python3 "$PY" serve "$URL" "/queue/rpccmp.py.$TAG" --concurrency 32 > /tmp/rpccmp.py.$TAG.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready /tmp/rpccmp.py.$TAG.log 2>/dev/null && break; sleep 0.1; done
python3 "$PY" bench "$URL" "/queue/rpccmp.py.$TAG" echo '[1]' -n 200 -c 1 > /dev/null   # warm-up
py_seq=$(python3 "$PY" bench "$URL" "/queue/rpccmp.py.$TAG" echo '[1]' -n "$SEQ_N" -c 1)
py_conc=$(python3 "$PY" bench "$URL" "/queue/rpccmp.py.$TAG" echo '[1]' -n "$PY_CONC_N" -c 32)

# stompsh responder, stompsh caller
"$BIN" "$URL" -q -c "rpc serve /queue/rpccmp.sh.$TAG -q" > /dev/null 2>&1 &
pids+=($!)
sleep 1
"$BIN" "$URL" -c "rpc bench /queue/rpccmp.sh.$TAG echo 1 -n 500 -c 1 --json" > /dev/null   # warm-up
sh_seq=$("$BIN" "$URL" -c "rpc bench /queue/rpccmp.sh.$TAG echo 1 -n $SEQ_N -c 1 --json")
sh_conc=$("$BIN" "$URL" -c "rpc bench /queue/rpccmp.sh.$TAG echo 1 -n $CONC_N -c 32 --json")

p_seq=$(jget "['p50_ms']" <<<"$py_seq"); p_cps=$(jget "['calls_per_s']" <<<"$py_conc"); p_seq_cps=$(jget "['calls_per_s']" <<<"$py_seq")
s_seq=$(jget "['latency_ms']['p50']" <<<"$sh_seq"); s_cps=$(jget "['calls_per_s']" <<<"$sh_conc"); s_seq_cps=$(jget "['calls_per_s']" <<<"$sh_seq")
printf '%-34s %12s %12s %8s\n' "RPC on $URL" stomp.py stompsh ratio
printf '%-34s %12s %12s %8s\n' "sequential p50 (ms)" "$p_seq" "$s_seq" "$(python3 -c "print(round($s_seq/$p_seq,2))")"
printf '%-34s %12s %12s %8s\n' "sequential calls/s" "$p_seq_cps" "$s_seq_cps" "$(python3 -c "print(round($s_seq_cps/$p_seq_cps,2))")"
printf '%-34s %12s %12s %8s\n' "-c 32 calls/s" "$p_cps" "$s_cps" "$(python3 -c "print(round($s_cps/$p_cps,2))")"
