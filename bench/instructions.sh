#!/usr/bin/env bash
# Instructions per message: callgrind on fixed workloads, the steady meter of bench/RESULTS.md (wall-clock
# figures move by ±30 % on a shared machine; callgrind counts the same for the same binary and input).
#
#   bench/instructions.sh [--small N] [--large N] [--bin PATH] [--proto-bin PATH] [--only WORD] [--write-results]
#
# Builds stompsh and stompproto-bench in release mode (swift build -c release --scratch-path .build-bench, as
# compare.sh), strips a copy of each (valgrind 3.19 gives up on the unstripped release binary's debug info),
# starts a sandbox broker (`stompsh broker --port 0`, a process of its own: its instructions are not counted),
# and runs each workload under `valgrind --tool=callgrind` twice, with N = --small (default 2000) and
# N = --large (default 6000) messages. The difference of the two totals divided by the difference of N is
# the user-space instructions per message of the whole stompsh process (all threads), start-up and connection
# set-up cancelled out. Workloads:
#   send, no receipts          bench send Q -n N                    (each message encoded on its own)
#   send, --prebuilt           bench send Q -n N --prebuilt         (one frame written N times: the raw ceiling)
#   send, a receipt each       bench send Q -n N --receipts each
#   consume, ack auto          bench consume Q -n N                 (Q filled beforehand, outside callgrind)
#   consume, client-individual bench consume Q -n N --ack client-individual
#   interactive, text / --json -c 'subscribe Q' -c 'wait N' (ack auto), and -c 'subscribe Q --count N' -c 'wait N'
#                              (acknowledging), every message printed to a file; Q filled beforehand
#   rpc call, caller side      rpc bench D echo 1 -n N              (responder: rpc serve, outside callgrind)
#   rpc call, responder side   rpc serve D --count N -q             (caller: rpc bench, outside callgrind)
#   script send command        repeat N send Q body-${repeat.index} (parse, substitute, encode, write)
#   StompProto alone           stompproto-bench --frames N          (one frame decoded and encoded)
#   over ws:// (the sandbox's WebSocket endpoint, --ws-port): send no receipts, send a receipt each, consume
#   client-individual, the same commands as above (the client masks every byte it sends, the broker none)
# --only WORD: only the workloads whose label contains WORD (e.g. --only ws://).
# Prints a Markdown table; --write-results appends it with the date and commit to bench/RESULTS.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SMALL=2000
LARGE=6000
BIN=
PROTO=
WRITE=0
ONLY=
while [[ $# -gt 0 ]]; do
    case $1 in
        --small) SMALL=$2; shift ;;
        --large) LARGE=$2; shift ;;
        --bin) BIN=$2; shift ;;
        --proto-bin) PROTO=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --write-results) WRITE=1 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "instructions.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if ! (( SMALL > 0 && LARGE > SMALL )); then echo "instructions.sh: need 0 < --small < --large" >&2; exit 2; fi
command -v valgrind > /dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

say() { printf '== %s\n' "$*" >&2; }
WORK=$(mktemp -d /tmp/stompsh-instructions.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z $BIN || -z $PROTO ]]; then
    SCRATCH=${STOMPSH_BENCH_SCRATCH:-$REPO/.build-bench}
    say "building release binaries ($SCRATCH)"
    (cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --product stompsh > "$WORK/build.log" 2>&1 \
        && swift build -c release --scratch-path "$SCRATCH" --product stompproto-bench >> "$WORK/build.log" 2>&1) \
        || { cat "$WORK/build.log" >&2; exit 1; }
    BIN=${BIN:-$SCRATCH/release/stompsh}
    PROTO=${PROTO:-$SCRATCH/release/stompproto-bench}
fi
cp "$BIN" "$WORK/stompsh" && strip "$WORK/stompsh"
cp "$PROTO" "$WORK/stompproto-bench" && strip "$WORK/stompproto-bench"
SH=$WORK/stompsh

# The sandbox broker, in a process of its own.
"$SH" broker --port 0 --ws-port 0 > "$WORK/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'ws://' "$WORK/broker.log" 2> /dev/null && break; sleep 0.05; done
URL=$(grep -o 'stomp://[0-9.]*:[0-9]*' "$WORK/broker.log" | head -1)
WSURL=$(grep -o 'ws://[0-9.]*:[0-9]*/[^ ]*' "$WORK/broker.log" | head -1)
[[ -n $URL && -n $WSURL ]] || { echo "instructions.sh: the sandbox broker did not start" >&2; cat "$WORK/broker.log" >&2; exit 1; }
say "sandbox broker at $URL and $WSURL"

TAG=$$
# Instructions of one run of `stompsh ARGS...` under callgrind (all threads).
ir() {
    local out=$WORK/cg.out
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" > "$WORK/run.out" 2> "$WORK/run.err" \
        || { echo "instructions.sh: failed under callgrind: $*" >&2; tail -20 "$WORK/run.err" >&2; exit 1; }
    awk '/^summary:/ { print $2 }' "$out"
}
# Fills Q with N messages (outside callgrind).
fill() { "$SH" "$URL" -q -c "bench send $1 -n $2" > /dev/null; }

# Whether the workload LABEL is measured (--only).
wanted() { [[ -z $ONLY || $1 == *"$ONLY"* ]]; }
rows=()
row() {   # label small_ir large_ir
    local per=$(( ($3 - $2) / (LARGE - SMALL) ))
    rows+=("| $1 | $(printf "%'d" "$per") | $(printf "%'d" "$2") | $(printf "%'d" "$3") |")
    say "$1: $per instructions per message"
}

measure_send() {   # label extra-options [url]
    local a b u=${3:-$URL}
    wanted "$1" || return 0
    a=$(ir "$SH" "$u" -q -c "bench send /queue/stompsh.ir.$TAG.s -n $SMALL $2")
    b=$(ir "$SH" "$u" -q -c "bench send /queue/stompsh.ir.$TAG.s -n $LARGE $2")
    "$SH" "$URL" -q -c "bench consume /queue/stompsh.ir.$TAG.s -n $((SMALL + LARGE)) --timeout 2" > /dev/null || true
    row "$1" "$a" "$b"
}
measure_send "send, no receipts (per-message encoding)" ""
measure_send "send, --prebuilt (one frame written N times)" "--prebuilt"
measure_send "send, a receipt each" "--receipts each"

measure_consume() {   # label extra-options [url]
    local a b q=/queue/stompsh.ir.$TAG.c u=${3:-$URL}
    wanted "$1" || return 0
    fill "$q" "$SMALL"
    a=$(ir "$SH" "$u" -q -c "bench consume $q -n $SMALL $2")
    fill "$q" "$LARGE"
    b=$(ir "$SH" "$u" -q -c "bench consume $q -n $LARGE $2")
    row "$1" "$a" "$b"
}
measure_consume "consume, ack auto" ""
measure_consume "consume, ack client-individual" "--ack client-individual"
measure_send "ws://: send, no receipts" "" "$WSURL"
measure_send "ws://: send, a receipt each" "--receipts each" "$WSURL"
measure_consume "ws://: consume, ack client-individual" "--ack client-individual" "$WSURL"

# The interactive path: the session's subscription printing every message (text, then --json) to a file, wait N:
# a plain subscribe (ack auto), and subscribe --count N (acknowledging what it printed)
measure_interactive() {   # label extra-stompsh-options subscribe-options(with N for COUNT)
    local a b q=/queue/stompsh.ir.$TAG.i
    wanted "$1" || return 0
    fill "$q" "$SMALL"
    a=$(ir "$SH" "$URL" -q $2 -c "subscribe $q ${3//COUNT/$SMALL}" -c "wait $SMALL --timeout 300")
    fill "$q" "$LARGE"
    b=$(ir "$SH" "$URL" -q $2 -c "subscribe $q ${3//COUNT/$LARGE}" -c "wait $LARGE --timeout 300")
    row "$1" "$a" "$b"
}
measure_interactive "interactive: subscribe (ack auto) + wait N, text to a file" "" ""
measure_interactive "interactive: subscribe (ack auto) + wait N, --json" "--json" ""
measure_interactive "interactive: subscribe --count N + wait N, text to a file" "" "--count COUNT"
measure_interactive "interactive: the same with --json" "--json" "--count COUNT"

# RPC, caller side: a responder outside callgrind
D=/queue/stompsh.ir.$TAG.rpc
if wanted "rpc call, caller side (rpc bench, 1 in flight)"; then
"$SH" "$URL" -q -c "rpc serve $D -q" > /dev/null 2>&1 &
pids+=($!)
sleep 1
a=$(ir "$SH" "$URL" -q -c "rpc bench $D echo 1 -n $SMALL")
b=$(ir "$SH" "$URL" -q -c "rpc bench $D echo 1 -n $LARGE")
row "rpc call, caller side (rpc bench, 1 in flight)" "$a" "$b"
kill "${pids[-1]}" 2> /dev/null || true
fi

# RPC, responder side: the caller outside callgrind, started once the responder (under callgrind) serves
responder() {   # N
    local d=/queue/stompsh.ir.$TAG.rpc$1
    rm -f "$WORK/cg.resp" "$WORK/resp.err"
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.resp" "$SH" "$URL" -c "rpc serve $d --count $1 -q" \
        > "$WORK/resp.out" 2> "$WORK/resp.err" &
    local vp=$!
    for _ in $(seq 600); do grep -q serving "$WORK/resp.out" 2> /dev/null && break; sleep 0.1; done
    "$SH" "$URL" -q -c "rpc bench $d echo 1 -n $1 -c 8 --timeout 60" > /dev/null 2>&1 || true
    wait "$vp"
    awk '/^summary:/ { print $2 }' "$WORK/cg.resp"
}
if wanted "rpc call, responder side (rpc serve)"; then
a=$(responder "$SMALL")
b=$(responder "$LARGE")
row "rpc call, responder side (rpc serve)" "$a" "$b"
fi

# The script's send command
q=/queue/stompsh.ir.$TAG.cmd
if wanted "script command: repeat N send Q body-\${repeat.index}"; then
a=$(ir "$SH" "$URL" -q -c "repeat $SMALL send $q body-\${repeat.index}")
b=$(ir "$SH" "$URL" -q -c "repeat $LARGE send $q body-\${repeat.index}")
"$SH" "$URL" -q -c "bench consume $q -n $((SMALL + LARGE)) --timeout 2" > /dev/null || true
row "script command: repeat N send Q body-\${repeat.index}" "$a" "$b"
fi

# StompProto alone
if wanted "StompProto alone: one small frame decoded and encoded"; then
a=$(ir "$WORK/stompproto-bench" --frames "$SMALL")
b=$(ir "$WORK/stompproto-bench" --frames "$LARGE")
row "StompProto alone: one small frame decoded and encoded" "$a" "$b"
fi

COMMIT=$(cd "$REPO" && git rev-parse --short HEAD 2> /dev/null || echo unknown)
TABLE=$(
    echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT, N = $SMALL and $LARGE, $(valgrind --version)"
    echo
    echo "| workload (sandbox broker on loopback) | instructions per message | total, N = $SMALL | total, N = $LARGE |"
    echo "|---|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
)
echo "$TABLE"
if [[ $WRITE == 1 ]]; then
    printf '\n%s\n' "$TABLE" >> "$REPO/bench/RESULTS.md"
    say "appended to bench/RESULTS.md"
fi
