# etch: build, test, demo and benchmark. Every target installs what is missing first (as root, via apt-get).
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_FLAGS = -c release --static-swift-stdlib -Xswiftc -Osize -Xlinker --strip-all
RELEASE_BIN = .build/release/etch

.PHONY: all deps build release test unit integration demo bench bench-watch clean

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

clean:
	rm -rf .build
