# Build and install stompsh with its man page and shell completions.
#   make install PREFIX=/usr/local      (DESTDIR is honoured for packaging)
#   make install-files BIN=path/to/stompsh PREFIX=...   (install an already built binary; used by the tests)
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
BIN ?= .build/release/stompsh

BINDIR = $(DESTDIR)$(PREFIX)/bin
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

.PHONY: all build install install-files uninstall test lint

all: build

build:
	$(SWIFT) build -c release --product stompsh

install: build
	$(MAKE) install-files BIN=$(BIN)

install-files:
	test -x $(BIN)
	install -d $(BINDIR) $(MAN1DIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 $(BIN) $(BINDIR)/stompsh
	install -m 0644 man/stompsh.1 $(MAN1DIR)/stompsh.1
	$(BIN) --generate-completion-script bash > $(BASHDIR)/stompsh
	$(BIN) --generate-completion-script zsh > $(ZSHDIR)/_stompsh
	$(BIN) --generate-completion-script fish > $(FISHDIR)/stompsh.fish

uninstall:
	rm -f $(BINDIR)/stompsh $(MAN1DIR)/stompsh.1 $(BASHDIR)/stompsh $(ZSHDIR)/_stompsh $(FISHDIR)/stompsh.fish

lint:
	mandoc -Tlint man/stompsh.1

test:
	scripts/test
