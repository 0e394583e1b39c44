# syscage build and test entry points. `make test` is the one command that
# runs the whole suite (README, .ci/run).
GO       ?= go
TAGS     := seccomp
BIN      := bin/syscage
COMMIT   := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -X github.com/syscage/syscage/internal/version.Commit=$(COMMIT)

export CGO_ENABLED := 1

.PHONY: all build test unit integration lint clean

all: build

build:
	$(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/syscage

clean:
	rm -rf bin
