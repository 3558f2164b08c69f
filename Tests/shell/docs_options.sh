#!/usr/bin/env bash
# Drift guard: every option of `stompsh --help` is described in the man page's OPTIONS section and shown in its
# SYNOPSIS, and OPTIONS describes no option that --help lacks; the hidden --list-commands matches `help --names`.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=docs_options
BIN=${STOMPSH_BIN:-${STOMPSH_BIN_DIR:-$REPO/.build/debug}/stompsh}
[[ -x $BIN ]] || { echo "$NAME: FAIL: no binary at $BIN" >&2; exit 1; }
FAILS=0
fail() { echo "$NAME: FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

help=$(HOME=/nonexistent "$BIN" --help) || fail "stompsh --help exited non-zero"
# options from the OPTIONS: block of --help; --rc/--no-rc is two options
mapfile -t opts < <(printf '%s\n' "$help" | sed -n '/^OPTIONS:/,$p' | grep -oE '^  (-[a-zA-Z], )?--[a-z][a-z-]*(/--[a-z-]+)?' |
    sed 's/^ *//; s/, /\n/; s#/#\n#' | sort -u)
((${#opts[@]} >= 10)) || fail "found only ${#opts[@]} options in stompsh --help"

rendered=$(MANWIDTH=200 mandoc -Tascii -Owidth=200 "$REPO/man/stompsh.1" | col -bx)
options_section=$(printf '%s\n' "$rendered" | sed -n '/^OPTIONS/,/^[A-Z]/p' | sed '1d;$d')
synopsis=$(printf '%s\n' "$rendered" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | tr -s ' \n' ' ')
# the tags of OPTIONS' list: lines indented by exactly 5 columns
mapfile -t tags < <(printf '%s\n' "$options_section" | grep -E '^     -' | grep -oE '(^|[ ,])--?[a-zA-Z][a-z-]*' | sed 's/^[ ,]*//' | sort -u)

# long names that have a short form: SYNOPSIS shows the short one (as nc(1) does)
paired=$(printf '%s\n' "$help" | sed -n '/^OPTIONS:/,$p' | grep -oE '^  -[a-zA-Z], --[a-z-]+' | sed 's/.*, //')
for o in "${opts[@]}"; do
    grep -qxF -- "$o" <<<"$paired" && continue_synopsis=1 || continue_synopsis=0
    printf '%s\n' "${tags[@]}" | grep -qxF -- "$o" || fail "man page OPTIONS does not describe $o (from stompsh --help)"
    ((continue_synopsis)) && continue
    case $o in -h | -q | -f | -c) short=${o#-}; grep -qE "\[-[a-zA-Z]*$short[a-zA-Z]*( |\])|\[$o " <<<"$synopsis" || fail "SYNOPSIS lacks $o" ;;
    *) grep -qE -- "(\[|\| )$o( |\])" <<<"$synopsis" || fail "SYNOPSIS lacks $o" ;;
    esac
done
for t in "${tags[@]}"; do
    printf '%s\n' "${opts[@]}" | grep -qxF -- "$t" || fail "man page OPTIONS describes $t, which stompsh --help lacks"
done

list=$("$BIN" --list-commands) || fail "--list-commands failed"
names=$(HOME=/nonexistent "$BIN" -c 'help --names' </dev/null) || fail "help --names failed"
[[ $list == "$names" ]] || fail "--list-commands differs from help --names"
[[ $("$BIN" --version) =~ ^[0-9]+\.[0-9]+ ]] || fail "--version does not print a version"

((FAILS == 0)) && echo "$NAME: ok (${#opts[@]} options)"
((FAILS == 0))
