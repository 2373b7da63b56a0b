# vpnconn-contract: every target is a verb of the toolkit and one line calling Python.
# `make` alone lists them. The first target that needs them builds .venv (from pyproject.toml) and
# node_modules (from package-lock.json); nothing has to be installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_OK  := $(VENV)/.installed
NODE_OK := node_modules/.installed
CHROMIUM_OK := $(VENV)/.chromium

TARGET ?=
PORT ?= 8080
WORLD ?=
MODE ?= all
EXAMPLES ?= 100
SEED ?= 0
PROJECT_ID ?=
VGW_ID ?=
VGW_IP ?=
CGW_ID ?=
LOCAL_SUBNETS ?=
VGW_IP_ROLE ?=
VGW_ATTACHMENT ?=
VGW_FLAVOR ?=
VGW_IP_VERSION ?=
# what the VPN gateway is, where it is not what the open world takes every gateway for (contract and serve alike)
GATEWAY_FACTS = $(if $(LOCAL_SUBNETS),--local-subnets $(LOCAL_SUBNETS)) $(if $(VGW_IP_ROLE),--vgw-ip-role $(VGW_IP_ROLE)) $(if $(VGW_ATTACHMENT),--vgw-attachment $(VGW_ATTACHMENT)) $(if $(VGW_FLAVOR),--vgw-flavor $(VGW_FLAVOR)) $(if $(VGW_IP_VERSION),--vgw-ip-version $(VGW_IP_VERSION))
REPORT ?=
STRICT ?=
MAX_FAILURES ?=
REQUEST_TIMEOUT ?= 10
MAX_TIME ?= 600
PHASES ?=
MAX_CREATES ?=
RATE_LIMIT ?=
FAULT ?=
VARIANT ?=
SOAK_SECONDS ?= 600
CONCURRENCY ?= 16
NO_CACHE ?=
LATENCY ?=

.DEFAULT_GOAL := help
.PHONY: help contract cleanup serve fixtures pack publish check lint test bench clean

help: ## list the targets
	@echo "vpnconn-contract: contract tests, reference server and fixtures for POST /v5/{project_id}/vpn-connection"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PY_OK): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# Debian's Chromium renders the published page in tests and for the screenshot (installed once, as root).
$(CHROMIUM_OK):
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  { echo "make: Chromium is needed (Debian package 'chromium'); install it as root"; exit 2; }; }
	@mkdir -p $(VENV) && touch $@

$(NODE_OK): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed for the spec linter (Spectral); install Node.js 20+"; exit 2; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Secrets go through the environment, never the command line (make would echo it, ps would show it).
# GNU make exits 2 whenever a recipe fails, so the recipe says which code vpnconn gave and what it means;
# `.venv/bin/vpnconn contract` returns the code itself (0 pass, 1 violations, 2 no verdict, 3 bug).
contract cleanup serve: export VPNCONN_TOKEN = $(TOKEN)
contract cleanup serve: export VPNCONN_AK = $(AK)
contract cleanup serve: export VPNCONN_SK = $(SK)
contract: export ALLOW_CREATE := $(ALLOW_CREATE)
contract: export STRICT := $(STRICT)
contract: $(PY_OK) ## run the contract suite [TARGET=url] [TOKEN=..|AK=.. SK=..] [STRICT=1] [MODE=..] [EXAMPLES=n] [SEED=n] [CONCURRENCY=n] [NO_CACHE=1] [REPORT=dir]
	@$(BIN)/vpnconn contract --mode $(MODE) --examples $(EXAMPLES) --seed $(SEED) --request-timeout $(REQUEST_TIMEOUT) --max-time $(MAX_TIME) --concurrency $(CONCURRENCY) $(if $(NO_CACHE),--no-cache) $(if $(TARGET),--target $(TARGET)) $(if $(PROJECT_ID),--project-id $(PROJECT_ID)) $(if $(VGW_ID),--vgw-id $(VGW_ID)) $(if $(VGW_IP),--vgw-ip $(VGW_IP)) $(if $(CGW_ID),--cgw-id $(CGW_ID)) $(GATEWAY_FACTS) $(if $(REPORT),--report $(REPORT)) $(if $(MAX_FAILURES),--max-failures $(MAX_FAILURES)) $(if $(PHASES),--phases $(PHASES)) $(if $(MAX_CREATES),--max-creates $(MAX_CREATES)) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT)); \
	code=$$?; case $$code in 0) ;; 1) echo "make contract: vpnconn contract exited 1 (violations found)";; \
	  2) echo "make contract: vpnconn contract exited 2 (no verdict: see the message above)";; \
	  130|143) echo "make contract: vpnconn contract exited $$code (interrupted)";; \
	  *) echo "make contract: vpnconn contract exited $$code (internal error of the toolkit)";; esac; exit $$code

cleanup: $(PY_OK) ## delete what killed contract runs left on TARGET=url [TOKEN=..|AK=.. SK=..]
	@test -n "$(TARGET)" || { echo "make cleanup: give TARGET=url (the server the runs were pointed at)"; exit 2; }
	$(BIN)/vpnconn cleanup --target $(TARGET) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT))

serve: $(PY_OK) ## run the reference server on 127.0.0.1 [PORT=8080] [WORLD=file.yaml] [TOKEN=..] [AK=.. SK=..] [FAULT=name] [VARIANT=name] [LATENCY=ms] [NO_QUOTAS=1] [VGW_FLAVOR=GM VGW_ATTACHMENT=er VGW_IP_VERSION=ipv6 ...: the examples' gateway so]
	$(BIN)/vpnconn serve --port $(PORT) $(if $(WORLD),--world $(WORLD)) $(if $(FAULT),--fault $(FAULT)) $(if $(VARIANT),--variant $(VARIANT)) $(if $(LATENCY),--latency $(LATENCY)) $(if $(NO_QUOTAS),--no-quotas) $(if $(VGW_ID),--vgw-id $(VGW_ID)) $(if $(VGW_IP),--vgw-ip $(VGW_IP)) $(GATEWAY_FACTS)

fixtures: $(PY_OK) ## write fixtures/ (every style and rule) from the spec
	$(BIN)/vpnconn fixtures

pack: $(PY_OK) ## build the fixture pack in dist/: a wheel and a source archive, reproducible, each with its .sha256
	$(BIN)/vpnconn pack

publish: $(PY_OK) $(NODE_OK) $(CHROMIUM_OK) ## dist/spec/: bundled YAML and JSON, offline HTML reference, changelog
	$(BIN)/vpnconn publish

check: $(PY_OK) $(NODE_OK) lint ## validate and lint the spec; check examples, fixture drift, breaking changes (never writes)
	$(BIN)/vpnconn check

lint: $(PY_OK) ## lint the code: ruff (errors, import order) and mypy, as configured in pyproject.toml
	$(BIN)/ruff check . && $(BIN)/mypy

test: $(PY_OK) $(NODE_OK) $(CHROMIUM_OK) lint ## lint, then the toolkit's own tests (the spec, the server, the contract suite)
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=15

bench: $(PY_OK) $(NODE_OK) ## benchmarks: server vs Prism, contract suite speed, kill rate, a soak of the server [SOAK_SECONDS=600]
	$(BIN)/python benchmarks/server_vs_prism.py && $(BIN)/python benchmarks/contract_speed.py && $(BIN)/python benchmarks/kill_rate.py && \
	$(BIN)/python benchmarks/soak.py --seconds $(SOAK_SECONDS)

clean: ## remove the virtual environment, node_modules, build output and the case cache
	rm -rf $(VENV) node_modules dist reports .pytest_cache .hypothesis .vpnconn-cache/plans .vpnconn-cache/valid-specs
	@if ls .vpnconn-cache/created/run-*.jsonl >/dev/null 2>&1; then echo "kept .vpnconn-cache/created/: ledgers of killed runs (run make cleanup TARGET=... first)"; fi
