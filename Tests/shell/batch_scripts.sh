#!/usr/bin/env bash
# Batch mode end to end (issue 5): runs Tests/shell/scripts/*.stompsh against ActiveMQ and RabbitMQ and checks
# each script's `# expect-exit: N` and `# expect-stderr: TEXT` lines; runs one script through its shebang line.
# Needs $STOMPSH_TEST_ACTIVEMQ / $STOMPSH_TEST_RABBITMQ (scripts/brokers env); skips without them unless
# STOMPSH_REQUIRE_BROKERS=1. Binary: $STOMPSH_BIN, else $STOMPSH_BIN_DIR/stompsh, else .build/debug/stompsh.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=batch_scripts
BIN=${STOMPSH_BIN:-${STOMPSH_BIN_DIR:-$REPO/.build/debug}/stompsh}
[[ -x $BIN ]] || { echo "$NAME: FAIL: no binary at $BIN" >&2; exit 1; }

URLS=()
[[ -n ${STOMPSH_TEST_ACTIVEMQ:-} ]] && URLS+=("$STOMPSH_TEST_ACTIVEMQ")
[[ -n ${STOMPSH_TEST_RABBITMQ:-} ]] && URLS+=("$STOMPSH_TEST_RABBITMQ")
if ((${#URLS[@]} == 0)); then
    [[ ${STOMPSH_REQUIRE_BROKERS:-} == 1 ]] && { echo "$NAME: FAIL: no brokers configured" >&2; exit 1; }
    echo "$NAME: skip: no brokers (eval \"\$(scripts/brokers env)\")"; exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HOME=$TMP NO_COLOR=1
FAILS=0
fail() { echo "$NAME: FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

for url in "${URLS[@]}"; do
    for script in "$REPO"/Tests/shell/scripts/*.stompsh; do
        base=$(basename "$script")
        export STOMPSH_RUN_ID=$$-$RANDOM
        want=$(sed -n 's/^# expect-exit: //p' "$script")
        (cd "$(dirname "$script")" && timeout 60 "$BIN" "$url" -f "$base") >"$TMP/out" 2>"$TMP/err"
        rc=$?
        if [[ $rc != "${want:-0}" ]]; then
            fail "$base on $url: exit $rc, expected ${want:-0}"; sed 's/^/| /' "$TMP/err" >&2; continue
        fi
        while IFS= read -r line; do
            grep -qF -- "$line" "$TMP/err" || { fail "$base on $url: stderr lacks: $line"; sed 's/^/| /' "$TMP/err" >&2; }
        done < <(sed -n 's/^# expect-stderr: //p' "$script")
        grep -q "not reached" "$TMP/out" && fail "$base on $url: ran past the failure"
    done
    # the shebang line: the script runs as a program (stompsh on PATH): ./pubsub URL
    mkdir -p "$TMP/bin" && ln -sf "$BIN" "$TMP/bin/stompsh"
    cp "$REPO/Tests/shell/scripts/pubsub.stompsh" "$TMP/pubsub" && chmod +x "$TMP/pubsub"
    PATH=$TMP/bin:$PATH STOMPSH_RUN_ID=$$-shebang timeout 60 "$TMP/pubsub" "$url" >"$TMP/out" 2>"$TMP/err" \
        || { fail "shebang run on $url: exit $?"; sed 's/^/| /' "$TMP/err" >&2; }
    grep -q "got: hello,   world (greeting)" "$TMP/out" || fail "shebang run on $url: output lacks the echo"
done

((FAILS == 0)) && echo "$NAME: ok (${#URLS[@]} brokers)"
((FAILS == 0))
