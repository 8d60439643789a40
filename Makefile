# The two commands a newcomer needs (see README.md):
#   make run    build dialtone (installing PortAudio's dev package if missing) and start it
#   make test   run every test, the interop tests with real peers included
# CI (.ci/run) calls `make test`, so CI proves the README.

GO        ?= go
BIN       := bin/dialtone
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT       := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends
RUN_PKGS  := libportaudio2 portaudio19-dev libopus-dev libspeexdsp-dev pkg-config gcc
TEST_PKGS := $(RUN_PKGS) kamailio kamailio-tls-modules sip-tester baresip sox pulseaudio pulseaudio-utils libasound2-plugins tmux \
             iproute2 nftables rtpengine-daemon coturn dnsmasq-base gnome-keyring dbus-daemon \
             libspandsp-dev libsrtp2-dev tshark zsh fish groff-base
TEST_TIMEOUT ?= 15m
ARGS ?=

.PHONY: run build deps-run deps-test test test-unit test-race vet fuzz bench bench-peers clean release-check

run: build
	./$(BIN) $(ARGS)

build: deps-run
	$(GO) build -o $(BIN) ./cmd/dialtone

# Install only what is missing, so a second run is quiet and needs no network.
deps-run:
	@./.ci/ensure-packages $(RUN_PKGS)

deps-test:
	@./.ci/ensure-packages $(TEST_PKGS)

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@# The release's other systems (.goreleaser.yaml) must still compile: a Linux-only call
	@# outside a _linux.go file broke windows_amd64 once without any test noticing.
	@for t in windows/amd64 darwin/arm64; do \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build -tags noportaudio -o /dev/null ./cmd/dialtone || exit 1; \
	done

# Every test: unit, fuzz seed corpora, CLI and interop tests against Kamailio, baresip and sipp.
test: deps-test vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

test-unit:
	$(GO) test -count=1 -short ./...

# The whole suite under the race detector (slower: not part of `make test`, which CI runs).
# -race turns on the compiler's checkptr checks, and gordonklaus/portaudio passes its stream's
# integer id to C as a void* (OpenStream: unsafe.Pointer(s.id)), which checkptr stops with a
# fatal error as every stream opens; the checks stay on for every other package.
test-race: deps-test vet
	$(GO) test -race -gcflags='github.com/gordonklaus/portaudio=-d=checkptr=0' -count=1 -timeout 40m ./...

# Run every fuzz target for FUZZTIME, FUZZJOBS at a time, niced by FUZZNICE (not part of `make
# test`; the seed corpora are). Prints a line per target; the long runs in docs/RELIABILITY.md
# were `make fuzz FUZZTIME=10m FUZZJOBS=4 FUZZNICE=15`. PKGS narrows it (e.g. PKGS=./phone/sdp),
# FUZZMATCH picks targets by name (a regexp).
FUZZTIME ?= 30s
FUZZJOBS ?= 1
FUZZNICE ?= 0
FUZZMATCH ?= .
PKGS     ?= ./...
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZJOBS=$(FUZZJOBS) FUZZNICE=$(FUZZNICE) FUZZMATCH='$(FUZZMATCH)' ./.ci/fuzz $(PKGS)

# Micro-benchmarks of the hot paths (minutes); bench-peers runs the whole-process comparisons
# beside baresip and sipp (each cleans up every process it starts; about 15 minutes in all).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v '/bench$$')

bench-peers: deps-test
	$(GO) test ./bench -run '^$$' -bench . -benchtime 1x -v -timeout 60m

clean:
	rm -rf bin dist

# The whole release without publishing (.ci/release-check): goreleaser check, a snapshot release
# into dist/ (archives, .deb, .rpm, checksums), a look at what came out, and the .deb installed
# with apt into a clean debootstrap'd Debian root (chroot). Installs goreleaser v2.16.0 once
# (minutes the first time); about 2 minutes after that, which is why it is not part of `make test`.
GORELEASER := $(shell go env GOPATH)/bin/goreleaser
release-check: deps-run
	@[ -x $(GORELEASER) ] || $(GO) install github.com/goreleaser/goreleaser/v2@v2.16.0
	@./.ci/ensure-packages debootstrap rpm file unzip binutils
	GORELEASER=$(GORELEASER) ./.ci/release-check
