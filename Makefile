# The two commands: `make run` (the whole platform locally) and `make test` (every test against
# a real PostgreSQL and Google's Pub/Sub emulator). See README.md.
SHELL := /bin/bash
GO ?= go
DEVSERVER := bin/devserver

.PHONY: run test bench fuzz migrate lint generate build clean devserver jspsych

devserver:
	@mkdir -p bin
	$(GO) build -o $(DEVSERVER) ./functions/devserver

## run: the whole platform at http://127.0.0.1:8080 with local stand-ins (Ctrl-C stops it all)
run: devserver
	@$(MAKE) --no-print-directory jspsych || echo "make run: jsPsych could not be installed from npm; jsPsych study pages will not load it"
	exec $(DEVSERVER) serve

# jsPsych and its plugins from npm, with our data client, for jsPsych study pages (/static/jspsych/).
JSPSYCH := frontend/jspsych
jspsych: $(JSPSYCH)/dist/jspsych.js

$(JSPSYCH)/node_modules/.package-lock.json: $(JSPSYCH)/package.json $(JSPSYCH)/package-lock.json
	cd $(JSPSYCH) && npm ci --no-audit --no-fund --loglevel=error

$(JSPSYCH)/dist/jspsych.js: $(JSPSYCH)/node_modules/.package-lock.json $(JSPSYCH)/build.mjs $(JSPSYCH)/lookit-data.js
	cd $(JSPSYCH) && node build.mjs

# Pub/Sub integration tests run verbosely so the log shows them talking to the emulator.
INTEGRATION := lookit.dev/platform/shared/pubsub

## test: go vet, then every Go test with -race against real PostgreSQL and the Pub/Sub emulator,
## then the jsPsych data client's tests (Node.js)
test: devserver
	$(GO) vet ./...
	$(DEVSERVER) with-services -- bash -c '$(GO) test -race -count=1 $$($(GO) list ./... | grep -vx "$(INTEGRATION)") \
		&& $(GO) test -race -count=1 -v $(INTEGRATION)'
	cd $(JSPSYCH) && node --test

## bench: benchmarks against the same services, as a table with each raw ceiling beside ours
bench: devserver
	@set -o pipefail; $(DEVSERVER) with-services -- $(GO) test -run '^$$' -bench . -benchmem -count=1 ./... \
		| tee bin/bench.txt | $(GO) run ./functions/devserver/benchtable

## fuzz: every Fuzz function for FUZZTIME each (default 10s), against the same services
FUZZTIME ?= 10s
fuzz: devserver
	$(DEVSERVER) with-services -- bash -c 'set -e; for pkg in $$($(GO) list ./...); do \
		for fn in $$($(GO) test -list "^Fuzz" $$pkg | grep "^Fuzz" || true); do \
			echo "== $$pkg $$fn"; $(GO) test -run "^$$" -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; done'

## migrate: apply migrations to DATABASE_URL / INSTANCE_CONNECTION_NAME (or the .local cluster)
migrate: devserver
	$(DEVSERVER) migrate

## lint: formatting, vet, staticcheck, and generated query code in step with the SQL
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool sqlc diff

## generate: typed Go for shared/postgres/queries/*.sql (sqlc)
generate:
	$(GO) tool sqlc generate

## build: compile every package and the deploy unit
build:
	$(GO) build ./...

clean:
	rm -rf bin
