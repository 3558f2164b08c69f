#!/usr/bin/env bash
# The Makefile's install step (without the release build: `make install-files` with the test binary): binary,
# man page and the bash/zsh/fish completions land under PREFIX, man(1) finds the page, --version works,
# and `make uninstall` removes them again.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=docs_install
BIN=${STOMPSH_BIN:-${STOMPSH_BIN_DIR:-$REPO/.build/debug}/stompsh}
[[ -x $BIN ]] || { echo "$NAME: FAIL: no binary at $BIN" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() { echo "$NAME: FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

make -s -C "$REPO" install-files BIN="$BIN" PREFIX="$TMP/p" >"$TMP/log" 2>&1 || { cat "$TMP/log" >&2; fail "make install-files"; }
for f in bin/stompsh share/man/man1/stompsh.1 share/bash-completion/completions/stompsh \
    share/zsh/site-functions/_stompsh share/fish/vendor_completions.d/stompsh.fish; do
    [[ -s $TMP/p/$f ]] || fail "$f not installed"
done
[[ -x $TMP/p/bin/stompsh ]] || fail "bin/stompsh not executable"
grep -q 'stompsh' "$TMP/p/share/bash-completion/completions/stompsh" 2>/dev/null || fail "bash completion looks empty"
[[ $(MANPATH=$TMP/p/share/man man -w stompsh 2>&1) == "$TMP/p/share/man/man1/stompsh.1" ]] || fail "man -w stompsh does not find the page"
[[ $("$TMP/p/bin/stompsh" --version) =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "stompsh --version"
make -s -C "$REPO" uninstall PREFIX="$TMP/p" >/dev/null 2>&1 || fail "make uninstall"
[[ ! -e $TMP/p/bin/stompsh && ! -e $TMP/p/share/man/man1/stompsh.1 ]] || fail "make uninstall left files"
((FAILS == 0)) && echo "$NAME: ok"
((FAILS == 0))
