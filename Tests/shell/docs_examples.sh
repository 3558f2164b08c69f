#!/usr/bin/env bash
# Drift guard: every `$ stompsh ...` command in the man page's EXAMPLES runs against the test brokers and exits 0
# (extraction and substitutions: docs_lib.sh). Needs mandoc and python3.
source "$(dirname "${BASH_SOURCE[0]}")/docs_lib.sh"
docs_run docs_examples man "$DOCS_REPO/man/stompsh.1" 8
