#!/usr/bin/env bash
# Drift guard: every `$ ...` command in a ```sh block of README.md runs against the test brokers and exits 0
# (```sh rabbitmq blocks against RabbitMQ; extraction and substitutions: docs_lib.sh).
source "$(dirname "${BASH_SOURCE[0]}")/docs_lib.sh"
docs_run docs_readme readme "$DOCS_REPO/README.md" 8
