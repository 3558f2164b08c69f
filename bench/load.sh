#!/usr/bin/env bash
# Load run: ONE stompsh session publishes TOTAL messages and consumes TOTAL (in chunks: bench send, then bench
# consume, on one queue) while this script samples the session's resident memory (VmRSS of /proc/PID/status)
# after connecting and after every chunk. Prints the samples, the start/middle/end figures and the rates, and
# fails when memory grew: end RSS > start RSS + --max-growth MB, where start is taken after the first chunk (the
# first bench allocates the client's buffers once); the RSS right after connecting is printed too.
#
#   bench/load.sh [-n TOTAL] [-c CHUNK] [--size BYTES] [--max-growth MB] [--bin PATH] URL
#
# Defaults: -n 1000000 -c 100000 --size 100 --max-growth 30; binary: --bin, else $STOMPSH_BIN, else
# .build-release/release/stompsh (swift build -c release --scratch-path .build-release), else .build/debug/stompsh.
# Exit: 0 flat, 1 memory grew or stompsh failed, 2 usage.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOTAL=1000000
CHUNK=100000
SIZE=100
MAX_GROWTH_MB=30
BIN=${STOMPSH_BIN:-}
URL=

usage() { sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
while (($#)); do
    case $1 in
    -n) TOTAL=$2; shift 2 ;;
    -c) CHUNK=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --max-growth) MAX_GROWTH_MB=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "load: unknown option $1" >&2; usage ;;
    *) [[ -z $URL ]] || usage; URL=$1; shift ;;
    esac
done
[[ -n $URL ]] || usage
for v in TOTAL CHUNK SIZE MAX_GROWTH_MB; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} == 0)); then echo "load: $v must be a positive integer" >&2; exit 2; fi
done
((TOTAL % CHUNK == 0)) || { echo "load: -n $TOTAL is not a multiple of -c $CHUNK" >&2; exit 2; }
if [[ -z $BIN ]]; then
    BIN=$REPO/.build-release/release/stompsh
    [[ -x $BIN ]] || BIN=$REPO/.build/debug/stompsh
fi
[[ -x $BIN ]] || { echo "load: no stompsh binary at $BIN" >&2; exit 1; }

TMP=$(mktemp -d)
PID=
cleanup() {
    [[ -z $PID ]] || kill "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

CHUNKS=$((TOTAL / CHUNK))
QUEUE=/queue/stompsh.load.$$.$RANDOM

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
json_number() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

echo "load: $TOTAL messages of $SIZE B published and consumed in one session ($CHUNKS chunks of $CHUNK) on $URL"
echo "load: binary $BIN"
# stompsh reads its commands from a pipe that this script writes chunk by chunk, so that the session is still
# there when its memory is read after the last chunk.
mkfifo "$TMP/in" "$TMP/out"
HOME=$TMP NO_COLOR=1 "$BIN" "$URL" --no-rc <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
PID=$!
exec 3>"$TMP/in" 4<"$TMP/out"

declare -A RSS=()
SENT=0 CONSUMED=0 SEND_S=0 CONSUME_S=0
T0=$EPOCHREALTIME
# until_mark NAME: reads stompsh's output up to the line `load-mark NAME`, adding up the bench figures, then
# samples the RSS. False if stompsh ended first.
until_mark() {
    local line
    while IFS= read -r line <&4; do
        case $line in
        "load-mark $1")
            RSS[$1]=$(rss_kb "$PID")
            [[ $1 != "chunk-$CHUNKS" ]] || HWM=$(hwm_kb "$PID")
            printf 'load: %-10s %8s s  RSS %7s MB  (sent %d, consumed %d)\n' "$1" \
                "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" "$(mb "${RSS[$1]}")" \
                "$SENT" "$CONSUMED"
            return 0
            ;;
        '{"bench":"send"'*)
            SENT=$((SENT + $(json_number "$line" messages)))
            SEND_S=$(awk -v a="$SEND_S" -v b="$(json_number "$line" elapsed_s)" 'BEGIN { print a + b }')
            ;;
        '{"bench":"consume"'*)
            CONSUMED=$((CONSUMED + $(json_number "$line" messages)))
            CONSUME_S=$(awk -v a="$CONSUME_S" -v b="$(json_number "$line" elapsed_s)" 'BEGIN { print a + b }')
            ;;
        esac
    done
    return 1
}

ok=1
echo "echo load-mark connected" >&3
until_mark connected || ok=0
for ((i = 1; ok && i <= CHUNKS; i++)); do
    printf '%s\n' "bench send $QUEUE -n $CHUNK --size $SIZE --json" \
        "bench consume $QUEUE -n $CHUNK --timeout 30 --json" "echo load-mark chunk-$i" >&3
    until_mark "chunk-$i" || ok=0
done
exec 3>&-
cat <&4 >/dev/null
rc=0
wait "$PID" || rc=$?
PID=
if ((rc != 0 || !ok)); then
    echo "load: FAIL: stompsh exited with status $rc:" >&2
    sed 's/^/| /' "$TMP/err" >&2
    exit 1
fi

START=${RSS[chunk-1]:-}
MIDDLE=${RSS[chunk-$(((CHUNKS + 1) / 2))]:-}
END=${RSS[chunk-$CHUNKS]:-}
[[ -n $START && -n $MIDDLE && -n $END ]] || { echo "load: FAIL: missing RSS samples" >&2; exit 1; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
echo "load: RSS after connect $(mb "${RSS[connected]}") MB; start (after chunk 1) $(mb "$START") MB," \
    "middle (after chunk $(((CHUNKS + 1) / 2))) $(mb "$MIDDLE") MB, end $(mb "$END") MB, peak $(mb "${HWM:-0}") MB"
echo "load: published $SENT in $SEND_S s ($(rate "$SENT" "$SEND_S") msgs/s), consumed $CONSUMED in $CONSUME_S s" \
    "($(rate "$CONSUMED" "$CONSUME_S") msgs/s)"
((SENT == TOTAL && CONSUMED == TOTAL)) || { echo "load: FAIL: sent $SENT, consumed $CONSUMED, expected $TOTAL each" >&2; exit 1; }
growth=$((END - START))
if ((growth > MAX_GROWTH_MB * 1024)); then
    echo "load: FAIL: RSS grew by $(mb "$growth") MB from chunk 1 to the end (limit $MAX_GROWTH_MB MB)" >&2
    exit 1
fi
echo "load: ok: RSS grew by $(mb "$growth") MB from chunk 1 to the end (limit $MAX_GROWTH_MB MB)"
