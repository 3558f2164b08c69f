#!/usr/bin/env bash
# stompsh beside the bare-socket floor (and stomp.py, and itself over WebSocket) on the same broker(s), in one run.
#
#   bench/compare.sh [--quick] [--broker activemq|rabbitmq|both] [--private|--shared] [--load quiet|loaded|both]
#                    [--hogs N] [--rounds R] [--no-stomppy] [--only interactive] [--write-results] [--keep DIR]
#
# Every row of the table is measured for stompsh and for the floor (bench/floor.c: a C client on a bare socket,
# frames formatted with the same headers, sizes, receipts, prefetch and acks; compiled here with cc -O2) in R
# alternating rounds (default 3; the table shows each client's median round), so that drift on the machine hits
# both; the ratio column is stompsh / floor with issue 19's target (rates >= 0.9x the floor, latencies <= 1.1x).
# On RabbitMQ the same rounds run stompsh over ws:// (Web-STOMP) too: ratio ws/tcp, target >= 0.8x. stomp.py
# (bench/py_bench.py, Tests/python/rpc_peer.py) runs one round per row in the quiet half, as a reference.
# Per broker also: the interactive path, whole processes timed alike on the same refilled queue: a plain
# `subscribe Q` (ack auto) printing text, and --json, to a file, ended by `wait N`, beside `bench consume` ack auto
# (target >= 0.9x); `subscribe Q --count N` (it acknowledges what it printed) beside `bench consume --ack
# client-individual`, the acknowledging reference. --only interactive: only those rows (after a warm-up), no
# start-up, memory or codec figures. Then (ActiveMQ,
# quiet): start-up to the first prompt (in a pty), idle RSS, bench/load.sh (RSS over 1,000,000 messages sent and
# consumed in one session), and the StompProto codec benchmark.
#
# --load both: the rows twice, quiet then loaded (side by side in the report); loaded = N CPU hogs (`floor hog`,
# a busy loop with no system calls, NOT pinned: the scheduler places them; default N = cores - 1, i.e. "the other
# core busy" on 2 cores) started before the loaded half and stopped after it. --load loaded: only that half.
# --private (the default without --quick) starts a second broker pair for this run only (run dir
# /tmp/stompsh-bench-run, ports 626xx, AMQP 6682, epmd 25369: apart from the shared 616xx and killable 617xx
# pairs; a lock file stops a second private run from sharing it) and stops it at the end; --shared (the default
# with --quick) uses the tests' brokers: those of STOMPSH_TEST_ACTIVEMQ/_RABBITMQ/_RABBITMQ_WS when set (as
# `eval "$(scripts/brokers env)"` sets them), else `scripts/brokers start` (never stopped here). Ctrl-C, a failure
# or the end stops every process the script started (responders, hogs, private brokers).
# --quick: small counts, ActiveMQ only (unless --broker), one round, quiet (CI: < 60 s after the build);
# --write-results writes bench/RESULTS.md (keeping the notes after its `<!-- notes -->` line). Figures: JSON lines
# in DIR (--keep); --rounds R, --no-stomppy (skip the stomp.py reference).
#
# Environment: STOMPSH_BENCH_SCRATCH (default .build-bench), STOMPSH_BENCH_BIN (use this stompsh, skip the build),
# PYTHON (default python3), CC (default cc).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PY=${PYTHON:-python3}
QUICK=0
PRIVATE=
BROKERS=
LOADS=
HOGS=
ROUNDS=
STOMPPY=1
WRITE=0
KEEP=
ONLY=
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) QUICK=1 ;;
        --broker) BROKERS=$2; shift ;;
        --load) LOADS=$2; shift ;;
        --loaded) LOADS=loaded ;;
        --hogs) HOGS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --no-stomppy) STOMPPY=0 ;;
        --write-results) WRITE=1 ;;
        --private) PRIVATE=1 ;;
        --shared) PRIVATE=0 ;;
        --keep) KEEP=$2; shift ;;
        --only) ONLY=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
: "${BROKERS:=$([[ $QUICK == 1 ]] && echo activemq || echo both)}"
case $BROKERS in activemq|rabbitmq|both) ;; *) echo "compare.sh: --broker activemq|rabbitmq|both" >&2; exit 2 ;; esac
case ${LOADS:=quiet} in quiet) LOADS=(quiet) ;; loaded) LOADS=(loaded) ;; both) LOADS=(quiet loaded) ;;
    *) echo "compare.sh: --load quiet|loaded|both" >&2; exit 2 ;; esac
case $ONLY in ''|interactive) ;; *) echo "compare.sh: --only interactive" >&2; exit 2 ;; esac
[[ -z $ONLY || $WRITE == 0 ]] || { echo "compare.sh: --only writes no bench/RESULTS.md (it would lose the other rows)" >&2; exit 2; }
if [[ -z $PRIVATE ]]; then PRIVATE=$((1 - QUICK)); fi
: "${ROUNDS:=$((QUICK ? 1 : 3))}"
: "${HOGS:=$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))}"
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $HOGS =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds and --hogs: positive integers" >&2; exit 2; }

# --- counts -------------------------------------------------------------------------------------------------
if [[ $QUICK == 1 ]]; then
    N_SEND=5000; N_EACH=300; N_WIN=3000; WIN=100; N_CONS=5000; N_CI=3000; N_INT=3000
    N_RPC_SEQ=300; N_RPC_CONC=3000; N_RPC_CONC_PY=1000; RUNS=5; N_LOAD=50000; LOAD_CHUNK=10000; CODEC_S=0.2
else
    N_SEND=100000; N_EACH=2000; N_WIN=20000; WIN=100; N_CONS=100000; N_CI=50000; N_INT=50000
    N_RPC_SEQ=2000; N_RPC_CONC=20000; N_RPC_CONC_PY=5000; RUNS=20; N_LOAD=1000000; LOAD_CHUNK=100000; CODEC_S=0.6
fi
SIZE=100
PREFETCH=1000   # client-individual: unacknowledged messages the broker may push (RabbitMQ's default is unlimited)

say() { printf '== %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
OUT=${KEEP:-$(mktemp -d /tmp/stompsh-bench.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
pids=()      # background processes (responders, hogs): stopped by cleanup
hogs=()
BROKERS_STARTED=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${hogs[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${hogs[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ $PRIVATE == 1 && $BROKERS_STARTED == 1 ]]; then "$REPO/scripts/brokers" stop >&2 || true; fi
    [[ -n $KEEP ]] || rm -rf "$OUT"
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'exit 143' TERM

PHASE=quiet
# record BROKER WORK CLIENT OUTPUT: appends {"load":..,"broker":..,"work":..,"client":..,"data":{last JSON line}}
record() {
    local line
    line=$(printf '%s\n' "$4" | grep '^{' | tail -1 || true)
    if [[ -z $line ]]; then
        say "no figures for $PHASE $1 $2 $3: $4"
        line='{}'
    fi
    printf '{"load":"%s","broker":"%s","work":"%s","client":"%s","data":%s}\n' "$PHASE" "$1" "$2" "$3" "$line" >> "$RESULTS"
}

# --- brokers, floor and build ---------------------------------------------------------------------------------
if [[ $PRIVATE == 1 ]]; then
    export STOMPSH_RUN_DIR=${STOMPSH_BENCH_RUN_DIR:-/tmp/stompsh-bench-run}
    export ACTIVEMQ_STOMP_PORT=62613 RABBITMQ_STOMP_PORT=62620 RABBITMQ_STOMP_TLS_PORT=62621 RABBITMQ_AMQP_PORT=6682
    export RABBITMQ_DIST_PORT=26682 RABBITMQ_EPMD_PORT=25369
    export RABBITMQ_WS_PORT=62622 RABBITMQ_WSS_PORT=62623
    mkdir -p "$(dirname "$STOMPSH_RUN_DIR")"
    exec 9> "$STOMPSH_RUN_DIR.lock"
    flock -n 9 || { say "another compare.sh --private run holds $STOMPSH_RUN_DIR.lock: wait for it or use --shared"; exit 1; }
    BROKERS_STARTED=1
    say "brokers (scripts/brokers start, private: $STOMPSH_RUN_DIR)"
    "$REPO/scripts/brokers" start 9>&- >&2    # the brokers must not inherit the lock
    eval "$("$REPO/scripts/brokers" env)"
elif [[ $QUICK == 0 && -z ${STOMPSH_BENCH_SHARED_FULL:-} ]]; then
    # 100,000-message queues beside the tests' own traffic: the shared ActiveMQ (512 MB heap) ran out of memory once
    say "full counts on the shared brokers: refused (use --private, or --quick; STOMPSH_BENCH_SHARED_FULL=1 forces it)"
    exit 2
elif [[ -z ${STOMPSH_TEST_ACTIVEMQ:-} || -z ${STOMPSH_TEST_RABBITMQ:-} ]]; then
    # the tests' brokers (started if need be, never stopped here)
    say "brokers (scripts/brokers start, shared)"
    "$REPO/scripts/brokers" start >&2
    eval "$("$REPO/scripts/brokers" env)"
else
    say "brokers: the shared ones of the environment ($STOMPSH_TEST_ACTIVEMQ, $STOMPSH_TEST_RABBITMQ)"
fi

FLOOR=$OUT/floor
say "floor: ${CC:-cc} -O2 bench/floor.c"
"${CC:-cc}" -O2 -o "$FLOOR" "$HERE/floor.c"

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

# --- helpers --------------------------------------------------------------------------------------------------
# fill URL QUEUE N: N bench messages (the frames stompsh's `bench send` writes) put on QUEUE by the floor
fill() { "$FLOOR" send "$1" "$2" -n "$3" --size $SIZE > /dev/null; }
# refill URL QUEUE N: exactly N messages on the queue: what a row before left (a `subscribe --count` gives back
# what arrived after its N-th; an acknowledging consume its unacknowledged prefetch) is drained first
refill() { drain "$1" "$2"; fill "$1" "$2" "$3"; }
# drain URL QUEUE [N]: empties a queue (the brokers keep non-persistent messages in memory: leftovers would trigger
# producer flow control and slow the next benches down); N known: the floor takes exactly N
drain() {
    if [[ -n ${3:-} ]] && "$FLOOR" consume "$1" "$2" -n "$3" --timeout 3 > /dev/null 2>&1; then return; fi
    "$BIN" "$1" -q -c "bench consume $2 -n 100000000 --timeout 0.5" > /dev/null 2>&1 || true
}
sh_bench() { "$BIN" "$1" --json -c "$2 --json" 2>&1 || true; }
# wall_rate N OUTFILE CMD...: runs CMD (stdout to OUTFILE, stderr to OUTFILE.err), prints
# {"messages":N,"elapsed_s":wall,"msgs_per_s":N/wall}: the whole process, start-up and connect included
wall_rate() {
    local n=$1 out=$2 t0 t1 rc=0; shift 2
    t0=$(date +%s%N); "$@" > "$out" 2> "$out.err" || rc=$?; t1=$(date +%s%N)
    if ((rc != 0)); then echo "exit status $rc: $(head -c 300 "$out.err")"; return; fi
    awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "{\"messages\":%d,\"elapsed_s\":%.4f,\"msgs_per_s\":%.1f}\n", n, ns / 1e9, n / (ns / 1e9) }'
}

# printed N PATTERN FILE FIGURES: FIGURES if FILE has N lines matching PATTERN (every message printed), else why not
printed() {
    local k
    k=$(grep -c -- "$2" "$3" || true)
    if [[ $k == "$1" ]]; then printf '%s\n' "$4"; else echo "printed $k of $1 messages: $4"; fi
}

# warm_up NAME URL [WS_URL]: the brokers' JIT/caches (the first client measured would pay for it)
warm_up() {
    local name=$1 url=$2 ws=${3:-} q=/queue/stompsh.bench.$TAG.$PHASE.$1 u
    say "$PHASE $name: warm-up"
    # at most N_WIN messages in the broker at a time (ActiveMQ's heap is 512 MB and the shared one serves tests too)
    fill "$url" "$q.warm" "$N_WIN"; drain "$url" "$q.warm" "$N_WIN"
    for u in "$url" $ws; do
        "$BIN" "$u" -q -c "bench send $q.warm -n $N_WIN" > /dev/null 2>&1 || true; drain "$url" "$q.warm" "$N_WIN"
        "$BIN" "$u" -q -c "bench send $q.warm -n $N_WIN --receipts window:$WIN" > /dev/null 2>&1 || true; drain "$url" "$q.warm" "$N_WIN"
    done
    drain "$url" "$q.warm"
}

# interactive_rows NAME URL: the interactive path, whole processes timed alike on the same refilled queue, R rounds:
# a plain `subscribe Q` (ack auto, as a user watching traffic uses it) printing text / --json to a file, ended by
# `wait N`, beside `bench consume` ack auto (issue 19's target); and `subscribe Q --count N` (which acknowledges each
# batch once written) beside `bench consume --ack client-individual` (the broker's work when acknowledging)
interactive_rows() {
    local name=$1 url=$2 q=/queue/stompsh.bench.$TAG.$PHASE.$1.int round
    say "$PHASE $name: interactive path, $N_INT messages: subscribe (text, --json) to a file beside bench consume ($ROUNDS rounds)"
    # a script waits for the messages with `wait N` (without it the script, and the process, would end first);
    # every message printed is counted in the file (`printed`)
    local sub="subscribe $q" cnt="subscribe $q --count $N_INT" wt="wait $N_INT --timeout 300"
    for ((round = 0; round < ROUNDS; round++)); do
        refill "$url" "$q" "$N_INT"
        record "$name" interactive bench-consume "$(wall_rate "$N_INT" "$OUT/int.bench" "$BIN" "$url" -q -c "bench consume $q -n $N_INT")"
        refill "$url" "$q" "$N_INT"
        record "$name" interactive subscribe-auto-text "$(printed "$N_INT" '^MESSAGE ' "$OUT/int.txt" \
            "$(wall_rate "$N_INT" "$OUT/int.txt" "$BIN" "$url" -q -c "$sub" -c "$wt")")"
        refill "$url" "$q" "$N_INT"
        record "$name" interactive subscribe-auto-json "$(printed "$N_INT" '^{"frame":"MESSAGE"' "$OUT/int.json" \
            "$(wall_rate "$N_INT" "$OUT/int.json" "$BIN" "$url" -q --json -c "$sub" -c "$wt")")"
        # acknowledging: bench consume client-individual (an ACK per message, no prefetch header, as --count)
        refill "$url" "$q" "$N_INT"
        record "$name" interactive bench-consume-acked "$(wall_rate "$N_INT" "$OUT/int.bench" "$BIN" "$url" -q -c "bench consume $q -n $N_INT --ack client-individual")"
        refill "$url" "$q" "$N_INT"
        record "$name" interactive subscribe-text "$(printed "$N_INT" '^MESSAGE ' "$OUT/int.txt" \
            "$(wall_rate "$N_INT" "$OUT/int.txt" "$BIN" "$url" -q -c "$cnt" -c "$wt")")"
        refill "$url" "$q" "$N_INT"
        record "$name" interactive subscribe-json "$(printed "$N_INT" '^{"frame":"MESSAGE"' "$OUT/int.json" \
            "$(wall_rate "$N_INT" "$OUT/int.json" "$BIN" "$url" -q --json -c "$cnt" -c "$wt")")"
    done
    drain "$url" "$q"
    rm -f "$OUT"/int.*
}

# rows NAME URL [WS_URL]: every row, R alternating rounds of stompsh, the floor (and stompsh over WS_URL)
rows() {
    local name=$1 url=$2 ws=${3:-} q=/queue/stompsh.bench.$TAG.$PHASE.$1 round t u py=0
    [[ $STOMPPY == 1 && $PHASE == quiet ]] && py=1
    local via=(tcp); [[ -n $ws ]] && via+=(ws)
    warm_up "$name" "$url" "$ws"

    say "$PHASE $name: send $N_SEND x $SIZE B no receipts; receipt each $N_EACH; window:$WIN $N_WIN ($ROUNDS rounds)"
    for ((round = 0; round < ROUNDS; round++)); do
        for t in "${via[@]}"; do
            [[ $t == ws ]] && u=$ws || u=$url
            record "$name" send_none "stompsh-$t" "$(sh_bench "$u" "bench send $q.none.$t -n $N_SEND --size $SIZE")"
            drain "$url" "$q.none.$t" "$N_SEND"
            [[ $t == tcp ]] || continue
            record "$name" send_none floor "$("$FLOOR" send "$url" "$q.none.fl" -n "$N_SEND" --size $SIZE)"
            drain "$url" "$q.none.fl" "$N_SEND"
        done
    done
    for ((round = 0; round < ROUNDS; round++)); do
        for t in "${via[@]}"; do
            [[ $t == ws ]] && u=$ws || u=$url
            record "$name" send_each "stompsh-$t" "$(sh_bench "$u" "bench send $q.each.$t -n $N_EACH --size $SIZE --receipts each")"
            [[ $t == tcp ]] && record "$name" send_each floor "$("$FLOOR" send "$url" "$q.each.fl" -n "$N_EACH" --size $SIZE --receipts each)"
        done
    done
    for ((round = 0; round < ROUNDS; round++)); do
        for t in "${via[@]}"; do
            [[ $t == ws ]] && u=$ws || u=$url
            record "$name" send_window "stompsh-$t" "$(sh_bench "$u" "bench send $q.win.$t -n $N_WIN --size $SIZE --receipts window:$WIN")"
            drain "$url" "$q.win.$t" "$N_WIN"
            [[ $t == tcp ]] || continue
            record "$name" send_window floor "$("$FLOOR" send "$url" "$q.win.fl" -n "$N_WIN" --size $SIZE --receipts "window:$WIN")"
            drain "$url" "$q.win.fl" "$N_WIN"
        done
    done
    for t in "${via[@]}"; do drain "$url" "$q.each.$t" $((N_EACH * ROUNDS)); done
    drain "$url" "$q.each.fl" $((N_EACH * ROUNDS))
    if ((py)); then
        record "$name" send_none stomp.py "$("$PY" "$HERE/py_bench.py" send "$url" "$q.none.py" -n "$N_SEND" --size $SIZE)"
        drain "$url" "$q.none.py" $((N_SEND + 1))
        record "$name" send_each stomp.py "$("$PY" "$HERE/py_bench.py" send "$url" "$q.each.py" -n "$N_EACH" --size $SIZE --receipts each)"
        drain "$url" "$q.each.py" $((N_EACH + 1))
        record "$name" send_window stomp.py "$("$PY" "$HERE/py_bench.py" send "$url" "$q.win.py" -n "$N_WIN" --size $SIZE --receipts "window:$WIN")"
        drain "$url" "$q.win.py" $((N_WIN + 1))
    fi

    say "$PHASE $name: consume ack auto $N_CONS; client-individual $N_CI, prefetch $PREFETCH (queues filled by the floor)"
    local work n args fargs
    for work in consume_auto consume_ci; do
        if [[ $work == consume_auto ]]; then n=$N_CONS; args=""; fargs=(--ack auto)
        else n=$N_CI; args="--ack client-individual --prefetch $PREFETCH"; fargs=(--ack client-individual --prefetch $PREFETCH); fi
        for ((round = 0; round < ROUNDS; round++)); do
            for t in "${via[@]}"; do
                [[ $t == ws ]] && u=$ws || u=$url
                fill "$url" "$q.$work.$t" "$n"
                record "$name" "$work" "stompsh-$t" "$(sh_bench "$u" "bench consume $q.$work.$t -n $n $args")"
                [[ $t == tcp ]] || continue
                fill "$url" "$q.$work.fl" "$n"
                record "$name" "$work" floor "$("$FLOOR" consume "$url" "$q.$work.fl" -n "$n" "${fargs[@]}")"
            done
        done
        if ((py)); then
            fill "$url" "$q.$work.py" "$n"
            record "$name" "$work" stomp.py "$("$PY" "$HERE/py_bench.py" consume "$url" "$q.$work.py" -n "$n" "${fargs[@]}")"
        fi
        # each consumer took its N (a failed one left the rest): empty the queues once
        for t in "${via[@]}" fl $( ((py)) && echo py); do drain "$url" "$q.$work.$t"; done
    done

    interactive_rows "$name" "$url"

    say "$PHASE $name: RPC echo, sequential $N_RPC_SEQ and 32 in flight $N_RPC_CONC (responders: rpc serve, the floor's in a child process)"
    local rpy=$REPO/Tests/python/rpc_peer.py serve_pids=()
    for t in "${via[@]}"; do
        [[ $t == ws ]] && u=$ws || u=$url
        "$BIN" "$u" -q -c "rpc serve $q.rpc.$t -q" > "$OUT/serve.$t.$name.log" 2>&1 &
        serve_pids+=($!); pids+=($!)
    done
    if ((py)); then
        "$PY" "$rpy" serve "$url" "$q.rpc.py" --concurrency 32 > "$OUT/serve.py.$name.log" 2>&1 &
        serve_pids+=($!); pids+=($!)
        for _ in $(seq 100); do grep -q ready "$OUT/serve.py.$name.log" 2>/dev/null && break; sleep 0.1; done
    fi
    sleep 1
    for t in "${via[@]}"; do    # warm-up
        [[ $t == ws ]] && u=$ws || u=$url
        sh_bench "$u" "rpc bench $q.rpc.$t echo 1 -n 200 -c 1" > /dev/null
    done
    "$FLOOR" rpc "$url" "$q.rpc.fl" -n 200 --processes 2 > /dev/null
    for ((round = 0; round < ROUNDS; round++)); do
        for t in "${via[@]}"; do
            [[ $t == ws ]] && u=$ws || u=$url
            record "$name" rpc_seq "stompsh-$t" "$(sh_bench "$u" "rpc bench $q.rpc.$t echo 1 -n $N_RPC_SEQ -c 1")"
            [[ $t == tcp ]] && record "$name" rpc_seq floor "$("$FLOOR" rpc "$url" "$q.rpc.fl" -n "$N_RPC_SEQ" -c 1 --processes 2)"
        done
    done
    for ((round = 0; round < ROUNDS; round++)); do
        for t in "${via[@]}"; do
            [[ $t == ws ]] && u=$ws || u=$url
            record "$name" rpc_c32 "stompsh-$t" "$(sh_bench "$u" "rpc bench $q.rpc.$t echo 1 -n $N_RPC_CONC -c 32")"
            [[ $t == tcp ]] && record "$name" rpc_c32 floor "$("$FLOOR" rpc "$url" "$q.rpc.fl" -n "$N_RPC_CONC" -c 32 --processes 2)"
        done
    done
    if ((py)); then
        record "$name" rpc_seq stomp.py "$("$PY" "$rpy" bench "$url" "$q.rpc.py" echo '[1]' -n "$N_RPC_SEQ" -c 1)"
        record "$name" rpc_c32 stomp.py "$("$PY" "$rpy" bench "$url" "$q.rpc.py" echo '[1]' -n "$N_RPC_CONC_PY" -c 32)"
    fi
    kill "${serve_pids[@]}" 2>/dev/null || true
    wait "${serve_pids[@]}" 2>/dev/null || true
}

start_hogs() {
    local i
    for ((i = 0; i < HOGS; i++)); do "$FLOOR" hog & hogs+=($!); done
    say "loaded: $HOGS CPU hog(s) running (floor hog, not pinned; pids ${hogs[*]})"
}
stop_hogs() {
    ((${#hogs[@]})) || return 0
    kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
    hogs=()
}

# --- the rows, quiet and/or loaded ----------------------------------------------------------------------------
for PHASE in "${LOADS[@]}"; do
    [[ $PHASE == loaded ]] && start_hogs
    if [[ $ONLY == interactive ]]; then
        for b in activemq rabbitmq; do
            [[ $BROKERS == "$b" || $BROKERS == both ]] || continue
            [[ $b == activemq ]] && u=$STOMPSH_TEST_ACTIVEMQ || u=$STOMPSH_TEST_RABBITMQ
            warm_up "$b" "$u"
            interactive_rows "$b" "$u"
        done
    else
        [[ $BROKERS == activemq || $BROKERS == both ]] && rows activemq "$STOMPSH_TEST_ACTIVEMQ"
        [[ $BROKERS == rabbitmq || $BROKERS == both ]] && rows rabbitmq "$STOMPSH_TEST_RABBITMQ" "${STOMPSH_TEST_RABBITMQ_WS:-}"
    fi
    stop_hogs
done

# --- start-up and memory (ActiveMQ, quiet) --------------------------------------------------------------------
: > "$OUT/codec.txt"
if [[ -z $ONLY ]]; then
PHASE=quiet
URL=$STOMPSH_TEST_ACTIVEMQ
mkdir -p "$OUT/home"
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
say "start-up ($RUNS runs each): first prompt in a pty (not connected, connected), -c 'echo hi', one-shot send"
record startup prompt timer "$(HOME=$OUT/home "$PY" "$HERE/py_bench.py" prompt "$BIN" --runs "$RUNS")"
record startup prompt_connected timer "$(HOME=$OUT/home "$PY" "$HERE/py_bench.py" prompt "$BIN" "$URL" --runs "$RUNS")"
time_ms echo env HOME="$OUT/home" "$BIN" -c 'echo hi'
time_ms oneshot env HOME="$OUT/home" "$BIN" "$URL" -q -c "send /queue/stompsh.bench.$TAG.oneshot hi"
[[ $STOMPPY == 0 ]] || time_ms oneshot_py "$PY" -c "import stomp; c=stomp.Connection12([('127.0.0.1', ${ACTIVEMQ_STOMP_PORT})]); c.connect('guest','guest',wait=True); c.send('/queue/stompsh.bench.$TAG.oneshot','hi'); c.disconnect()"
drain "$URL" "/queue/stompsh.bench.$TAG.oneshot"

# rss_of PID: VmRSS and VmHWM in MB
rss_of() { awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{printf "{\"rss_mb\":%.1f,\"peak_rss_mb\":%.1f}\n", r/1024, h/1024}' "/proc/$1/status"; }
say "memory: idle; bench/load.sh -n $N_LOAD -c $LOAD_CHUNK (RSS over $N_LOAD messages sent and consumed in one session)"
HOME=$OUT/home "$BIN" -q -c 'sleep 3' > /dev/null 2>&1 & p=$!; pids+=($p); sleep 1.5; record memory idle_unconnected stompsh "$(rss_of $p)"; wait $p || true
HOME=$OUT/home "$BIN" "$URL" -q -c 'sleep 3' > /dev/null 2>&1 & p=$!; pids+=($p); sleep 1.5; record memory idle_connected stompsh "$(rss_of $p)"; wait $p || true
# flat: at most 2 MB more after the last chunk than after the first (load.sh fails beyond --max-growth)
load_out=$("$HERE/load.sh" -n "$N_LOAD" -c "$LOAD_CHUNK" --max-growth 2 --bin "$BIN" "$URL" 2>&1) && load_ok=true || load_ok=false
printf '%s\n' "$load_out" > "$OUT/load.txt"
record memory load stompsh "$(printf '%s\n' "$load_out" | "$PY" "$HERE/py_bench.py" loadsummary --ok "$load_ok")"

# --- codec -----------------------------------------------------------------------------------------------------
say "StompProto codec (stompproto-bench --seconds $CODEC_S)"
(cd "$REPO" && "$CODEC" --seconds "$CODEC_S") > "$OUT/codec.txt" 2>&1 || echo "stompproto-bench failed" >> "$OUT/codec.txt"
fi

# --- report ----------------------------------------------------------------------------------------------------
CMDLINE="bench/compare.sh$([[ $QUICK == 0 ]] || echo " --quick") --broker $BROKERS --$([[ $PRIVATE == 1 ]] && echo private || echo shared)"
CMDLINE+=" --load $([[ ${#LOADS[@]} == 2 ]] && echo both || echo "${LOADS[0]}") --rounds $ROUNDS"
[[ ${LOADS[*]} != *loaded* ]] || CMDLINE+=" --hogs $HOGS"
[[ $STOMPPY == 1 ]] || CMDLINE+=" --no-stomppy"
[[ -z $ONLY ]] || CMDLINE+=" --only $ONLY"
"$PY" "$HERE/report.py" "$RESULTS" "$OUT/codec.txt" --command "$CMDLINE" --bin "$BIN" --rounds "$ROUNDS" --hogs "$HOGS" > "$OUT/report.md"
cat "$OUT/report.md"
if [[ $WRITE == 1 ]]; then
    # keep the hand-written notes after the marker line
    { cat "$OUT/report.md"; [[ -f $HERE/RESULTS.md ]] && sed -n '/^<!-- notes -->$/,$p' "$HERE/RESULTS.md"; } > "$OUT/RESULTS.md"
    cp "$OUT/RESULTS.md" "$HERE/RESULTS.md"
    say "wrote bench/RESULTS.md"
fi
