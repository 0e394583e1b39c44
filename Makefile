SHELL := /bin/bash
# syscage build and test entry points. `make test` is the one command that
# runs the whole suite (README, .ci/run); it needs root for the integration
# and security tests.
GO          ?= go
TAGS        := seccomp
BIN         := bin/syscage
COMMIT      := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS     := -X github.com/syscage/syscage/internal/version.Commit=$(COMMIT)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

export CGO_ENABLED := 1

.PHONY: all build test unit integration compat-short compat lint exposures critest clean

all: build

build:
	$(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/syscage

# The whole suite: static checks, unit tests, then integration and security
# tests that run the real binary on real bundles (root), then the short
# compatibility subset.
test: lint unit integration compat-short

lint:
	@out=$$(gofmt -l cmd internal test bench 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) run $(STATICCHECK) -tags $(TAGS) ./...

unit:
	$(GO) test -tags $(TAGS) -count=1 ./cmd/... ./internal/...

integration:
	$(GO) test -tags $(TAGS) -count=1 -timeout 30m ./test/...

# Foreign test suites under runc and syscage (docs/compatibility.md).
# compat-short: Go's os, os/exec, os/signal and syscall tests in a busybox
# rootfs under runc, default and strict, as root and uid 1000 (minutes; no
# debootstrap). compat: CPython's and Go's suites under runc, default,
# strict, learn and the learned profile, root and uid 1000 (about an hour
# on 2 cores; builds and caches a debootstrap rootfs the first time).
compat-short: build
	SYSCAGE=$(CURDIR)/$(BIN) test/compat/compat.sh --short

compat: build
	SYSCAGE=$(CURDIR)/$(BIN) test/compat/compat.sh

# What a default container can still learn about the host: tests that fail
# today, kept out of `make test` (docs/security.md, "Known exposures").
exposures:
	$(GO) test -tags "$(TAGS) exposures" -count=1 -run TestKnownExposures ./test/security/

# Kubernetes' CRI validation suite with runc and with syscage, compared
# (scripts/critest.sh; offline, about 5 minutes once its tools are built).
critest:
	./scripts/critest.sh

clean:
	rm -rf bin
