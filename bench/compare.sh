#!/usr/bin/env bash
# stompsh next to stomp.py (and a bare socket, the broker's limit) on the same broker(s), in one run.
#
#   bench/compare.sh [--quick] [--broker activemq|rabbitmq|both] [--private|--shared] [--write-results] [--keep DIR]
#
# Starts the brokers as the tests do (scripts/brokers start): --private (the default without --quick) starts a
# second pair for this run only (run dir /tmp/stompsh-bench-run, ports 626xx; stopped at the end), so tests
# restarting the shared brokers cannot disturb it; --shared (the default with --quick) uses the tests' brokers.
# Builds stompsh and stompproto-bench in release mode
# (swift build -c release --scratch-path .build-bench), then for each broker runs stompsh's `bench`/`rpc bench`
# commands and the equivalent stomp.py programs (bench/py_bench.py, Tests/python/rpc_peer.py), and prints a
# Markdown table: work | stompsh | stomp.py | ratio | target. Then start-up times, memory, and the StompProto
# codec benchmark. --quick: small counts, ActiveMQ only (CI, < 60 s after the build). --write-results: also
# writes bench/RESULTS.md. Figures are JSON lines in DIR (--keep) or a temporary directory.
#
# Environment: STOMPSH_BENCH_SCRATCH (default .build-bench), STOMPSH_BENCH_BIN (use this stompsh, skip the build),
# PYTHON (default python3).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PY=${PYTHON:-python3}
QUICK=0
PRIVATE=
BROKERS=both
WRITE=0
KEEP=
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) QUICK=1 ;;
        --broker) BROKERS=$2; shift ;;
        --write-results) WRITE=1 ;;
        --private) PRIVATE=1 ;;
        --shared) PRIVATE=0 ;;
        --keep) KEEP=$2; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ $QUICK == 1 && $BROKERS == both ]]; then BROKERS=activemq; fi
if [[ -z $PRIVATE ]]; then PRIVATE=$((1 - QUICK)); fi

# --- counts -------------------------------------------------------------------------------------------------
if [[ $QUICK == 1 ]]; then
    N_SEND=5000; N_EACH=300; N_WIN=3000; WIN=100; N_CONS=5000; N_CI=3000
    N_RPC_SEQ=300; N_RPC_CONC=3000; N_RPC_CONC_PY=1000; RUNS=5; N_MEM=50000; CODEC_S=0.2
else
    N_SEND=100000; N_EACH=2000; N_WIN=20000; WIN=100; N_CONS=100000; N_CI=50000
    N_RPC_SEQ=2000; N_RPC_CONC=20000; N_RPC_CONC_PY=5000; RUNS=20; N_MEM=1000000; CODEC_S=0.6
fi
SIZE=100
ROUNDS=$((QUICK ? 1 : 3))   # send without receipts, sequential receipts and calls: median of this many rounds
PREFETCH=1000   # client-individual: unacknowledged messages the broker may push (RabbitMQ's default is unlimited)

say() { printf '== %s\n' "$*" >&2; }
OUT=${KEEP:-$(mktemp -d /tmp/stompsh-bench.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -n $KEEP ]] || rm -rf "$OUT"
    if [[ $PRIVATE == 1 ]]; then "$REPO/scripts/brokers" stop >&2 || true; fi
}
trap cleanup EXIT

# record BROKER WORK CLIENT JSON_LINE: appends {"broker":..,"work":..,"client":..,"data":{...}}
record() {
    local line
    line=$(printf '%s\n' "$4" | grep '^{' | tail -1)
    if [[ -z $line ]]; then
        say "no figures for $1 $2 $3: $4"
        line='{}'
    fi
    printf '{"broker":"%s","work":"%s","client":"%s","data":%s}\n' "$1" "$2" "$3" "$line" >> "$RESULTS"
}

# --- brokers and build ----------------------------------------------------------------------------------------
if [[ $PRIVATE == 1 ]]; then
    export STOMPSH_RUN_DIR=${STOMPSH_BENCH_RUN_DIR:-/tmp/stompsh-bench-run}
    export ACTIVEMQ_STOMP_PORT=62613 RABBITMQ_STOMP_PORT=62620 RABBITMQ_STOMP_TLS_PORT=62621 RABBITMQ_AMQP_PORT=6682
    export RABBITMQ_DIST_PORT=26682 RABBITMQ_EPMD_PORT=25369
    export RABBITMQ_WS_PORT=62622 RABBITMQ_WSS_PORT=62623
fi
say "brokers (scripts/brokers start$([[ $PRIVATE == 1 ]] && echo ", private: $STOMPSH_RUN_DIR"))"
"$REPO/scripts/brokers" start >&2
eval "$("$REPO/scripts/brokers" env)"

SCRATCH=${STOMPSH_BENCH_SCRATCH:-$REPO/.build-bench}
if [[ -n ${STOMPSH_BENCH_BIN:-} ]]; then
    BIN=$STOMPSH_BENCH_BIN
    CODEC=$(dirname "$BIN")/stompproto-bench
else
    say "swift build -c release --scratch-path $SCRATCH (stompsh, stompproto-bench)"
    # a source file saved while building ("modified during the build"): build again
    for attempt in 1 2 3; do
        if (cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --product stompsh >&2 \
            && swift build -c release --scratch-path "$SCRATCH" --product stompproto-bench >&2); then break; fi
        [[ $attempt == 3 ]] && { say "build failed"; exit 1; }
        sleep 10
    done
    BINDIR=$(cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
    BIN=$BINDIR/stompsh
    CODEC=$BINDIR/stompproto-bench
fi
say "stompsh binary: $BIN"
TAG=$(date +%s)$RANDOM

# --- per broker -----------------------------------------------------------------------------------------------
# drain URL QUEUE: empties a queue (the brokers keep non-persistent messages in memory: leftovers would trigger
# producer flow control and slow the next benches down)
drain() { "$BIN" "$1" -q -c "bench consume $2 -n 100000000 --timeout 0.5" > /dev/null 2>&1 || true; }

run_broker() {
    local name=$1 url=$2 q=/queue/stompsh.bench.$TAG.$1
    say "$name: warm-up (the brokers' JIT/caches: the first client measured would pay for it)"
    "$PY" "$HERE/py_bench.py" raw "$url" "$q.warm" -n "$N_SEND" --size $SIZE > /dev/null
    "$BIN" "$url" -q -c "bench send $q.warm -n $N_SEND" -c "bench send $q.warm -n $N_WIN --receipts window:$WIN" > /dev/null 2>&1 || true
    "$PY" "$HERE/py_bench.py" send "$url" "$q.warm" -n "$N_EACH" > /dev/null
    drain "$url" "$q.warm"

    say "$name: send, $N_SEND x $SIZE B, no receipts"
    local round
    for ((round = 0; round < ROUNDS; round++)); do
        record "$name" send_none stompsh "$("$BIN" "$url" --json -c "bench send $q.none.sh -n $N_SEND --size $SIZE --json")"
        drain "$url" "$q.none.sh"
        record "$name" send_none stomp.py "$("$PY" "$HERE/py_bench.py" send "$url" "$q.none.py" -n "$N_SEND" --size $SIZE)"
        drain "$url" "$q.none.py"
        record "$name" send_none bare-socket "$("$PY" "$HERE/py_bench.py" raw "$url" "$q.none.raw" -n "$N_SEND" --size $SIZE)"
        drain "$url" "$q.none.raw"
    done

    say "$name: send, receipt each (sequential), $N_EACH"
    for ((round = 0; round < ROUNDS; round++)); do
        record "$name" send_each stompsh "$("$BIN" "$url" --json -c "bench send $q.each.sh -n $N_EACH --receipts each --json")"
        record "$name" send_each stomp.py "$("$PY" "$HERE/py_bench.py" send "$url" "$q.each.py" -n "$N_EACH" --receipts each)"
        record "$name" send_each bare-socket "$("$PY" "$HERE/py_bench.py" raw "$url" "$q.each.raw" -n "$N_EACH" --receipts each)"
    done
    drain "$url" "$q.each.sh"; drain "$url" "$q.each.py"; drain "$url" "$q.each.raw"

    say "$name: send, receipts window:$WIN, $N_WIN"
    record "$name" send_window stompsh "$("$BIN" "$url" --json -c "bench send $q.win.sh -n $N_WIN --receipts window:$WIN --json")"
    drain "$url" "$q.win.sh"
    record "$name" send_window stomp.py "$("$PY" "$HERE/py_bench.py" send "$url" "$q.win.py" -n "$N_WIN" --receipts "window:$WIN")"
    drain "$url" "$q.win.py"
    record "$name" send_window bare-socket "$("$PY" "$HERE/py_bench.py" raw "$url" "$q.win.raw" -n "$N_WIN" --receipts "window:$WIN")"
    drain "$url" "$q.win.raw"

    say "$name: consume auto, $N_CONS (queues filled by the bare-socket writer)"
    "$PY" "$HERE/py_bench.py" fill "$url" "$q.cons.sh" -n "$N_CONS" --size $SIZE > /dev/null
    record "$name" consume_auto stompsh "$("$BIN" "$url" --json -c "bench consume $q.cons.sh -n $N_CONS --json")"
    drain "$url" "$q.cons.sh"
    "$PY" "$HERE/py_bench.py" fill "$url" "$q.cons.py" -n "$N_CONS" --size $SIZE > /dev/null
    record "$name" consume_auto stomp.py "$("$PY" "$HERE/py_bench.py" consume "$url" "$q.cons.py" -n "$N_CONS")"
    drain "$url" "$q.cons.py"

    say "$name: consume client-individual, $N_CI, prefetch $PREFETCH (both clients)"
    "$PY" "$HERE/py_bench.py" fill "$url" "$q.ci.sh" -n "$N_CI" --size $SIZE > /dev/null
    record "$name" consume_ci stompsh "$("$BIN" "$url" --json -c "bench consume $q.ci.sh -n $N_CI --ack client-individual --prefetch $PREFETCH --json")"
    drain "$url" "$q.ci.sh"
    "$PY" "$HERE/py_bench.py" fill "$url" "$q.ci.py" -n "$N_CI" --size $SIZE > /dev/null
    record "$name" consume_ci stomp.py "$("$PY" "$HERE/py_bench.py" consume "$url" "$q.ci.py" -n "$N_CI" --ack client-individual --prefetch $PREFETCH)"
    drain "$url" "$q.ci.py"
    "$PY" "$HERE/py_bench.py" fill "$url" "$q.ci.raw" -n "$N_CI" --size $SIZE > /dev/null
    record "$name" consume_ci bare-socket "$("$PY" "$HERE/py_bench.py" rawconsume "$url" "$q.ci.raw" -n "$N_CI" --prefetch $PREFETCH)"
    drain "$url" "$q.ci.raw"

    say "$name: RPC echo, sequential ($N_RPC_SEQ) and -c 32 ($N_RPC_CONC stompsh, $N_RPC_CONC_PY stomp.py)"
    local rpy=$REPO/Tests/python/rpc_peer.py log=$OUT/rpc.$name.log
    "$BIN" "$url" -q -c "rpc serve $q.rpc.sh -q" > "$OUT/serve.sh.$name.log" 2>&1 &
    local spid=$!; pids+=("$spid")
    "$PY" "$rpy" serve "$url" "$q.rpc.py" --concurrency 32 > "$log" 2>&1 &
    local ppid=$!; pids+=("$ppid")
    for _ in $(seq 100); do grep -q ready "$log" 2>/dev/null && break; sleep 0.1; done
    sleep 0.5
    "$BIN" "$url" --json -c "rpc bench $q.rpc.sh echo 1 -n 200 -c 1 --json" > /dev/null          # warm-up
    "$PY" "$rpy" bench "$url" "$q.rpc.py" echo '[1]' -n 200 -c 1 > /dev/null
    # sequential latency is the most sensitive to other load on the machine: ROUNDS alternating rounds, the
    # table shows each client's median round
    for ((round = 0; round < ROUNDS; round++)); do
        record "$name" rpc_seq stompsh "$("$BIN" "$url" --json -c "rpc bench $q.rpc.sh echo 1 -n $N_RPC_SEQ -c 1 --json")"
        record "$name" rpc_seq stomp.py "$("$PY" "$rpy" bench "$url" "$q.rpc.py" echo '[1]' -n "$N_RPC_SEQ" -c 1)"
        record "$name" rpc_seq bare-socket "$("$PY" "$HERE/py_bench.py" rpcfloor "$url" "$q.rpc.raw" -n "$N_RPC_SEQ")"
    done
    record "$name" rpc_c32 stompsh "$("$BIN" "$url" --json -c "rpc bench $q.rpc.sh echo 1 -n $N_RPC_CONC -c 32 --json")"
    record "$name" rpc_c32 stomp.py "$("$PY" "$rpy" bench "$url" "$q.rpc.py" echo '[1]' -n "$N_RPC_CONC_PY" -c 32)"
    kill "$spid" "$ppid" 2>/dev/null || true
    wait "$spid" "$ppid" 2>/dev/null || true
}

# run_ws NAME WS_URL TCP_URL: stompsh over WebSocket beside the same work over TCP, alternating, same broker and
# run (issue 16: ws at least 0.8x of tcp). Recorded as broker NAME, clients stompsh-ws and stompsh-tcp.
run_ws() {
    local name=$1 ws=$2 tcp=$3 q=/queue/stompsh.bench.$TAG.$1 round t url
    say "$name: warm-up over WebSocket"
    "$BIN" "$ws" -q -c "bench send $q.warm -n $N_SEND" > /dev/null 2>&1 || true
    drain "$tcp" "$q.warm"
    say "$name: send $N_SEND x $SIZE B, no receipts; windowed receipts $N_WIN; consume $N_CONS; RPC echo (ws and tcp)"
    for ((round = 0; round < ROUNDS; round++)); do
        for t in ws tcp; do
            [[ $t == ws ]] && url=$ws || url=$tcp
            record "$name" send_none "stompsh-$t" "$("$BIN" "$url" --json -c "bench send $q.none.$t -n $N_SEND --size $SIZE --json")"
            drain "$tcp" "$q.none.$t"
        done
    done
    for t in ws tcp; do
        [[ $t == ws ]] && url=$ws || url=$tcp
        record "$name" send_window "stompsh-$t" "$("$BIN" "$url" --json -c "bench send $q.win.$t -n $N_WIN --receipts window:$WIN --json")"
        drain "$tcp" "$q.win.$t"
        "$PY" "$HERE/py_bench.py" fill "$tcp" "$q.cons.$t" -n "$N_CONS" --size $SIZE > /dev/null
        record "$name" consume_auto "stompsh-$t" "$("$BIN" "$url" --json -c "bench consume $q.cons.$t -n $N_CONS --json")"
        drain "$tcp" "$q.cons.$t"
    done
    local spw spt
    "$BIN" "$ws" -q -c "rpc serve $q.rpc.ws -q" > "$OUT/serve.ws.$name.log" 2>&1 &
    spw=$!; pids+=("$spw")
    "$BIN" "$tcp" -q -c "rpc serve $q.rpc.tcp -q" > "$OUT/serve.tcp.$name.log" 2>&1 &
    spt=$!; pids+=("$spt")
    sleep 1
    "$BIN" "$ws" --json -c "rpc bench $q.rpc.ws echo 1 -n 200 -c 1 --json" > /dev/null
    "$BIN" "$tcp" --json -c "rpc bench $q.rpc.tcp echo 1 -n 200 -c 1 --json" > /dev/null
    for ((round = 0; round < ROUNDS; round++)); do
        record "$name" rpc_seq stompsh-ws "$("$BIN" "$ws" --json -c "rpc bench $q.rpc.ws echo 1 -n $N_RPC_SEQ -c 1 --json")"
        record "$name" rpc_seq stompsh-tcp "$("$BIN" "$tcp" --json -c "rpc bench $q.rpc.tcp echo 1 -n $N_RPC_SEQ -c 1 --json")"
    done
    record "$name" rpc_c32 stompsh-ws "$("$BIN" "$ws" --json -c "rpc bench $q.rpc.ws echo 1 -n $N_RPC_CONC -c 32 --json")"
    record "$name" rpc_c32 stompsh-tcp "$("$BIN" "$tcp" --json -c "rpc bench $q.rpc.tcp echo 1 -n $N_RPC_CONC -c 32 --json")"
    kill "$spw" "$spt" 2>/dev/null || true
    wait "$spw" "$spt" 2>/dev/null || true
}

[[ $BROKERS == activemq || $BROKERS == both ]] && run_broker activemq "$STOMPSH_TEST_ACTIVEMQ"
[[ $BROKERS == rabbitmq || $BROKERS == both ]] && run_broker rabbitmq "$STOMPSH_TEST_RABBITMQ"
[[ $BROKERS == rabbitmq || $BROKERS == both ]] && [[ -n ${STOMPSH_TEST_RABBITMQ_WS:-} ]] &&
    run_ws rabbitmq-websocket "$STOMPSH_TEST_RABBITMQ_WS" "$STOMPSH_TEST_RABBITMQ"

# --- start-up and memory (ActiveMQ) ---------------------------------------------------------------------------
URL=$STOMPSH_TEST_ACTIVEMQ
# time_ms NAME CMD...: median wall time of RUNS runs (hyperfine if installed)
time_ms() {
    local name=$1; shift
    if command -v hyperfine > /dev/null; then
        hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$OUT/hf.json" -- "$(printf '%q ' "$@")" > /dev/null 2>&1
        record startup "$name" timer "$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(json.dumps({"median_ms": round(r["median"]*1000,2), "mean_ms": round(r["mean"]*1000,2), "min_ms": round(r["min"]*1000,2), "runs": len(r["times"]), "tool": "hyperfine"}))' "$OUT/hf.json")"
        return
    fi
    local times=() t0 t1 i
    "$@" > /dev/null 2>&1 || true    # warm-up (page cache)
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    record startup "$name" timer "$("$PY" -c 'import json,sys,statistics as s; v=[int(x)/1000 for x in sys.argv[1:]]; print(json.dumps({"median_ms": round(s.median(v),2), "mean_ms": round(s.mean(v),2), "min_ms": round(min(v),2), "runs": len(v), "tool": "date +%s%N loop"}))' "${times[@]}")"
}
say "start-up ($RUNS runs each)"
time_ms echo "$BIN" -c 'echo hi'
time_ms oneshot "$BIN" "$URL" -q -c "send /queue/stompsh.bench.$TAG.oneshot hi"
time_ms oneshot_py "$PY" -c "import stomp; c=stomp.Connection12([('127.0.0.1', ${ACTIVEMQ_STOMP_PORT})]); c.connect('guest','guest',wait=True); c.send('/queue/stompsh.bench.$TAG.oneshot','hi'); c.disconnect()"

# rss_of PID: VmRSS and VmHWM in MB
rss_of() { awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{printf "{\"rss_mb\":%.1f,\"peak_rss_mb\":%.1f}\n", r/1024, h/1024}' "/proc/$1/status"; }
say "memory: idle, then consuming $N_MEM messages"
"$BIN" -q -c 'sleep 3' > /dev/null 2>&1 & p=$!; sleep 1.5; record memory idle_unconnected stompsh "$(rss_of $p)"; wait $p || true
"$BIN" "$URL" -q -c 'sleep 3' > /dev/null 2>&1 & p=$!; sleep 1.5; record memory idle_connected stompsh "$(rss_of $p)"; wait $p || true
"$PY" "$HERE/py_bench.py" fill "$URL" "/queue/stompsh.bench.$TAG.mem" -n "$N_MEM" --size $SIZE > /dev/null &
fp=$!
record memory consume_big stompsh "$("$BIN" "$URL" --json -c "bench consume /queue/stompsh.bench.$TAG.mem -n $N_MEM --json")"
wait $fp || true
"$BIN" "$URL" --json -c "bench send /topic/stompsh.bench.$TAG.mem2 -n $N_MEM --json" > "$OUT/sendbig.json"   # a topic without subscribers: the broker drops them (1M queued would hit its memory limit)
record memory send_big stompsh "$(cat "$OUT/sendbig.json")"
drain "$URL" "/queue/stompsh.bench.$TAG.mem"; drain "$URL" "/queue/stompsh.bench.$TAG.oneshot"

# --- codec -----------------------------------------------------------------------------------------------------
say "StompProto codec (stompproto-bench --seconds $CODEC_S)"
(cd "$REPO" && "$CODEC" --seconds "$CODEC_S") > "$OUT/codec.txt" 2>&1 || echo "stompproto-bench failed" >> "$OUT/codec.txt"

# --- report ----------------------------------------------------------------------------------------------------
CMDLINE="bench/compare.sh $([[ $QUICK == 1 ]] && echo "--quick ")--broker $BROKERS $([[ $PRIVATE == 1 ]] && echo --private || echo --shared)"
"$PY" "$HERE/report.py" "$RESULTS" "$OUT/codec.txt" --command "$CMDLINE" --bin "$BIN" > "$OUT/report.md"
cat "$OUT/report.md"
if [[ $WRITE == 1 ]]; then
    # keep the hand-written notes after the marker line
    { cat "$OUT/report.md"; [[ -f $HERE/RESULTS.md ]] && sed -n '/^<!-- notes -->$/,$p' "$HERE/RESULTS.md"; } > "$OUT/RESULTS.md"
    cp "$OUT/RESULTS.md" "$HERE/RESULTS.md"
    say "wrote bench/RESULTS.md"
fi
