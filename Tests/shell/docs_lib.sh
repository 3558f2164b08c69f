#!/usr/bin/env bash
# Shared by docs_examples.sh (man page EXAMPLES) and docs_readme.sh (README.md): turns the runnable commands of a
# document into a bash script and runs it against the test brokers. Run directly, it only checks that both
# documents still have commands to run (the extraction did not silently break).
#
# A runnable command is a line starting with `$ ` (man page: in EXAMPLES, as rendered by mandoc; README: inside a
# ```sh fence). A trailing `\` continues it; a shell heredoc (`<<'EOF'` at its end) takes the lines up to EOF.
# Other lines (output shown in the document) are ignored. Every command must exit 0; `CMD &` runs in the
# background and must exit 0 by the end. `stompsh` is the binary under test ($STOMPSH_BIN).
# Substitutions, so the documents can show the usual addresses:
#   localhost:61613            -> $STOMPSH_TEST_ACTIVEMQ's host:port (RabbitMQ's in a ```sh rabbitmq fence)
#   stomp+ssl://localhost:61614 -> $STOMPSH_TEST_RABBITMQ_TLS (ca.pem, client.pem, client.key in the cwd)
#   /queue/NAME                -> /queue/docsRUNID.NAME (each run starts with empty queues)
set -uo pipefail

DOCS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# docs_commands man|readme FILE RUNID: prints the generated bash script on stdout.
docs_commands() {
    local kind=$1 file=$2 run=$3 text
    if [[ $kind == man ]]; then
        text=$(MANWIDTH=200 mandoc -Tascii -Owidth=200 "$file" | col -bx) || return 1
    else
        text=$(cat "$file") || return 1
    fi
    printf '%s\n' "$text" | python3 -c "$DOCS_PY" "$kind" "$run" \
        "${STOMPSH_TEST_ACTIVEMQ:-}" "${STOMPSH_TEST_RABBITMQ:-}" "${STOMPSH_TEST_RABBITMQ_TLS:-}"
}

# The extractor (python3): reads the document on stdin, prints the bash script.
IFS= read -r -d '' DOCS_PY <<'PY'
import re, sys, shlex
kind, run, amq, rmq, tls = sys.argv[1:6]
src = sys.stdin.read().split("\n")

def hostport(url):
    return re.sub(r"^[a-z+]+://", "", url).split("/")[0]

# (text, tag) lines that may hold commands
lines = []
if kind == "man":
    inside = False
    for l in src:
        if re.match(r"^[A-Z]", l):
            inside = l.startswith("EXAMPLES")
            continue
        if inside:
            lines.append((l, ""))
else:
    fence = None
    for l in src:
        m = re.match(r"^```(.*)$", l)
        if m:
            if fence is None:
                info = m.group(1).split()
                fence = (info[1] if len(info) > 1 else "activemq") if info[:1] == ["sh"] else ""
            else:
                fence = None
            continue
        if fence:
            lines.append((l, fence))

cmds = []
i = 0
while i < len(lines):
    text, tag = lines[i]
    s = text.lstrip()
    i += 1
    if not s.startswith("$ "):
        continue
    indent = len(text) - len(s)
    def strip(t):
        return t[indent:] if t[:indent].strip() == "" else t.lstrip()
    cmd = [s[2:]]
    while cmd[-1].endswith("\\") and i < len(lines):
        cmd.append(strip(lines[i][0])); i += 1
    m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?\s*$", cmd[-1])
    if m:
        end = m.group(1)
        while i < len(lines):
            t = strip(lines[i][0]); i += 1
            if t.strip() == end:
                cmd.append(end); break
            cmd.append(t)
    c = "\n".join(cmd)
    c = re.sub(r"(?<![\w-])/queue/", "/queue/docs%s." % run, c)
    c = c.replace("stomp+ssl://localhost:61614", tls or "stomp+ssl://no-tls-broker-configured:1")
    c = c.replace("localhost:61613", hostport(rmq if tag == "rabbitmq" else amq))
    cmds.append((c, cmd[0]))

print("# generated from %s" % kind)
print('stompsh() { timeout 120 "$STOMPSH_BIN" "$@"; }')
print("DOCS_N=0 DOCS_FAILS=0 DOCS_BG=()")
for c, first in cmds:
    label = shlex.quote(first)
    print("DOCS_N=$((DOCS_N + 1)); echo \"\\$ \"%s >&2" % label)
    if c.rstrip().endswith("&"):
        print(c)
        print("DOCS_BG+=(\"$!:\"%s)" % label)
    else:
        print(c)
        print("rc=$?; if ((rc != 0)); then echo \"docs: FAIL (exit $rc): \"%s >&2; DOCS_FAILS=$((DOCS_FAILS + 1)); fi" % label)
print('for j in "${DOCS_BG[@]}"; do wait "${j%%:*}" || { echo "docs: FAIL (background): ${j#*:}" >&2; DOCS_FAILS=$((DOCS_FAILS + 1)); }; done')
print('echo "docs: $DOCS_N commands, $DOCS_FAILS failed" >&2')
print("exit $((DOCS_FAILS > 0 ? 1 : 0))")
PY

# docs_count man|readme FILE: number of runnable commands.
docs_count() { docs_commands "$1" "$2" x | grep -c '^DOCS_N=\$((DOCS_N + 1))'; }

# docs_run NAME man|readme FILE MIN: runs the commands (at least MIN of them) in a scratch directory.
docs_run() {
    local name=$1 kind=$2 file=$3 min=$4 n tmp rc
    export STOMPSH_BIN=${STOMPSH_BIN:-${STOMPSH_BIN_DIR:-$DOCS_REPO/.build/debug}/stompsh}
    [[ -x $STOMPSH_BIN ]] || { echo "$name: FAIL: no binary at $STOMPSH_BIN" >&2; return 1; }
    [[ $STOMPSH_BIN == /* ]] || STOMPSH_BIN=$PWD/$STOMPSH_BIN   # the commands run in a scratch directory
    if [[ -z ${STOMPSH_TEST_ACTIVEMQ:-} || -z ${STOMPSH_TEST_RABBITMQ:-} || -z ${STOMPSH_TEST_RABBITMQ_TLS:-} ]]; then
        [[ ${STOMPSH_REQUIRE_BROKERS:-} == 1 ]] && { echo "$name: FAIL: brokers not configured" >&2; return 1; }
        echo "$name: skip: no brokers (eval \"\$(scripts/brokers env)\")"; return 0
    fi
    n=$(docs_count "$kind" "$file") || return 1
    ((n >= min)) || { echo "$name: FAIL: only $n runnable commands found in $file (expected >= $min)" >&2; return 1; }
    tmp=$(mktemp -d)
    if [[ -n ${STOMPSH_TEST_TLS_DIR:-} ]]; then
        cp "$STOMPSH_TEST_TLS_DIR"/ca.pem "$STOMPSH_TEST_TLS_DIR"/client.pem "$STOMPSH_TEST_TLS_DIR"/client.key "$tmp"/
    fi
    docs_commands "$kind" "$file" "$$$RANDOM" >"$tmp/run.bash" || { rm -rf "$tmp"; return 1; }
    rc=0
    (cd "$tmp" && env -u STOMP_URL -u STOMP_LOGIN -u STOMP_PASSCODE HOME="$tmp" NO_COLOR=1 bash "$tmp/run.bash") \
        >"$tmp/out" 2>&1 || rc=$?
    if ((rc != 0)); then
        echo "$name: FAIL" >&2
        sed 's/^/| /' "$tmp/out" >&2
    else
        echo "$name: ok ($n commands from $(basename "$file"))"
    fi
    rm -rf "$tmp"
    return "$rc"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    m=$(docs_count man "$DOCS_REPO/man/stompsh.1") && r=$(docs_count readme "$DOCS_REPO/README.md") || exit 1
    echo "docs_lib: man page EXAMPLES has $m runnable commands, README.md $r"
    ((m > 0 && r > 0))
fi
