#!/usr/bin/env bash
# Benches that scale out: `bench send|consume --connections N` and `rpc bench --connections N` for N = 1 2 4 8
# on one broker, in one run, one row per N (where the rates stop growing, the broker or the machine saturates).
#
#   bench/connections.sh --bin PATH URL [--messages M] [--calls C] [--counts "1 2 4 8"]
#
# Per N: `bench send Q -n M --connections N` (each message its own sequence number and timestamp; a receipt on
# each connection's last message), then `bench consume Q -n M --connections N` (lost / duplicates checked), then
# `rpc bench D echo 1 -n C -c 16 --connections N` against one `rpc serve D --concurrency 64` (a second stompsh).
# Prints a Markdown table. Figures only: nothing here is a test.
set -euo pipefail
BIN=
URL=
M=100000
C=20000
COUNTS="1 2 4 8"
while [[ $# -gt 0 ]]; do
    case $1 in
        --bin) BIN=$2; shift ;;
        --messages) M=$2; shift ;;
        --calls) C=$2; shift ;;
        --counts) COUNTS=$2; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) URL=$1 ;;
    esac
    shift
done
[[ -n $BIN && -n $URL ]] || { echo "usage: bench/connections.sh --bin PATH URL [--messages M] [--calls C]" >&2; exit 2; }
TAG=$$
Q=/queue/stompsh.bench.conns.$TAG
D=/queue/stompsh.bench.conns.$TAG.rpc
"$BIN" "$URL" -q -c "rpc serve $D --concurrency 64 -q" > /dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true' EXIT
sleep 1
field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d.get(sys.argv[1], ""))' "$1"; }
echo "| connections | send msg/s | consume msg/s | consume lost / duplicates | rpc calls/s (16 in flight each) | rpc p50 ms |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $COUNTS; do
    s=$("$BIN" "$URL" --json -c "bench send $Q -n $M --connections $n --json")
    c=$("$BIN" "$URL" --json -c "bench consume $Q -n $M --connections $n --json")
    r=$("$BIN" "$URL" --json -c "rpc bench $D echo 1 -n $C -c 16 --connections $n --json" || true)
    p50=$(python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d["latency_ms"]["p50"])' <<< "$r")
    printf '| %s | %.0f | %.0f | %s / %s | %.0f | %s |\n' "$n" "$(field msgs_per_s <<< "$s")" "$(field msgs_per_s <<< "$c")" \
        "$(field lost <<< "$c")" "$(field duplicates <<< "$c")" "$(field calls_per_s <<< "$r")" "$p50"
done
