# Atelier — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := build/bin
TAGS := webkit2_41
DEMO_HOME ?= $(HOME)/.local/share/atelier-demo
VERSION := $(shell grep -m1 -o '"productVersion": "[^"]*"' wails.json | cut -d'"' -f4)
LDFLAGS := -X atelier/app.Version=$(VERSION)
export CGO_ENABLED := 1

.PHONY: modules check-tree test-fuzz test-package run test deps deps-test frontend cli desktop demo bench package clean test-go test-frontend test-window test-browser test-cosign

## run: install what is missing, build, and start the desktop app on a demo workspace
run: deps desktop cli demo
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "Starting Atelier on the demo workspace ($(DEMO_HOME))"; \
		ATELIER_HOME=$(DEMO_HOME)/home $(BIN)/atelier-desktop; \
	else \
		echo "No display here (DISPLAY is not set), so the desktop window cannot open."; \
		echo "Running the engine headless on the demo workspace instead: atelier daemon"; \
		echo "In another terminal: ATELIER_HOME=$(DEMO_HOME)/home $(BIN)/atelier status"; \
		ATELIER_HOME=$(DEMO_HOME)/home $(BIN)/atelier daemon; \
	fi

## test: install what is missing and run every test
test: check-tree deps-test frontend test-go test-fuzz test-frontend test-cosign test-window test-browser test-package
	@echo "make test: all suites passed"

deps:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

frontend:
	cd frontend && npm run build

cli:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/atelier ./cmd/atelier

desktop: frontend
	$(GO) tool wails build -tags $(TAGS) -s -m -nosyncgomod -skipbindings -ldflags "$(LDFLAGS)" -o atelier-desktop-window
	# the same window without the engine: what a launch runs while one answers (main.go)
	$(GO) tool wails build -tags "$(TAGS) viewonly" -s -m -nosyncgomod -skipbindings -ldflags "$(LDFLAGS)" -o atelier-desktop-view
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/atelier-desktop ./cmd/atelier-desktop

## modules: build the studio's first-party modules for wasip1 into build/bin/modules
modules:
	GO=$(GO) scripts/build-modules.sh $(BIN)/modules

## demo: generate the demo project and register it
demo: cli modules
	@$(BIN)/atelier demo --modules $(BIN)/modules $(DEMO_HOME)

test-go:
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

test-fuzz:
	scripts/fuzz.sh

test-frontend:
	cd frontend && npx vitest run

test-cosign:
	scripts/cosign.sh
	COSIGN_BIN=$(CURDIR)/.cache/bin/cosign $(GO) test -tags cosign -run Cosign -count=1 ./signing/...

test-window: desktop cli
	scripts/with-xvfb.sh $(GO) test -tags e2e -count=1 -run Desktop -v ./e2e/

test-browser: cli frontend modules
	$(GO) test -tags e2e -count=1 -run Browser -v ./e2e/

test-package: package
	scripts/with-xvfb.sh $(GO) test -tags e2e -count=1 -run Package -v ./e2e/

## screenshots: refresh the README's screenshots from the last real-window test
screenshots:
	cp test-results/view-*.png docs/screenshots/

## bench: the benchmarks each issue names, with their peers, side by side
bench: deps-test cli
	@for b in bench/*.sh; do echo "== $$b"; bash $$b || exit 1; done

## package: build the Debian package (build/package/atelier_VERSION_amd64.deb)
package: deps desktop cli
	ATELIER_VERSION=$(VERSION) scripts/package.sh

clean:
	rm -rf $(BIN) frontend/dist .cache

## check-tree: no tracked file over 5 MB (build products stay out of git)
check-tree:
	scripts/check-tree.sh
