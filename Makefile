# Build and install stompsh with its man page and shell completions.
#   make install PREFIX=/usr/local      (DESTDIR is honoured for packaging)
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
BIN := .build/release/stompsh

.PHONY: all build install uninstall test

all: build

build:
	$(SWIFT) build -c release --product stompsh

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/stompsh
	install -m 0644 man/stompsh.1 $(DESTDIR)$(PREFIX)/share/man/man1/stompsh.1
	$(BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/stompsh
	$(BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_stompsh
	$(BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/stompsh.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/stompsh $(DESTDIR)$(PREFIX)/share/man/man1/stompsh.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/stompsh \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_stompsh \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/stompsh.fish

test:
	scripts/test
