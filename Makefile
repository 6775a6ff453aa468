# watcher: `make run` starts the service, `make test` runs every check.
# Every target creates .venv and installs the project into it when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint typecheck pytest demo bench bench-full soak clean browser nginx caddy

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "watcher needs Python >= 3.11; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/watcher run

demo: $(STAMP)
	$(BIN)/watcher demo

lint: $(STAMP)
	$(BIN)/ruff check watcher tests bench
	$(BIN)/ruff format --check watcher tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
# Installed here when missing; where that is impossible (not root) the tests say so and skip.
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		(apt-get install -y -q chromium >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) || \
		echo "warning: could not install chromium; browser tests will be skipped"; \
	else echo "warning: $(CHROMIUM) missing and cannot be installed here; browser tests will be skipped"; fi

# Debian's nginx and caddy, for tests/test_nginx.py: it runs deploy/nginx.conf and
# deploy/Caddyfile in its own processes. Installed when missing, with their system
# services neither started (a policy-rc.d says no while apt runs, unless one is there
# already) nor enabled; where that is impossible (not root) the test says so and skips.
define install_server
	@if command -v $(1) >/dev/null || [ -x /usr/sbin/$(1) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(1) for the front-end test (its service stays stopped and disabled)"; \
		policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=/usr/sbin/policy-rc.d; \
			printf '#!/bin/sh\nexit 101\n' > $$policy; chmod 755 $$policy; fi; \
		(apt-get install -y -q $(1) >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && apt-get install -y -q $(1) >/dev/null)) || \
		echo "warning: could not install $(1); its test will be skipped"; \
		if [ -n "$$policy" ]; then rm -f $$policy; fi; \
		if command -v systemctl >/dev/null; then systemctl disable -q $(1).service >/dev/null 2>&1 || :; fi; \
	else echo "warning: $(1) missing and cannot be installed here; its test will be skipped"; fi
endef

nginx:
	$(call install_server,nginx)

caddy:
	$(call install_server,caddy)

# pytest exits 5 when it collects no tests; that is not a failure of the suite.
pytest: $(STAMP) browser nginx caddy
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

test: lint typecheck pytest

# Every benchmark (bench/run.py lists them), one table of every target, bench/results.json,
# and a comparison with bench/baseline.json (BENCH_ARGS="--strict" fails on a regression).
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-full: $(STAMP)
	$(BIN)/python bench/run.py --full $(BENCH_ARGS)

# The long crash trial (tests/crash_trial.py): three replicas on the local PostgreSQL, at
# least 20 SIGKILLs, and the cluster restarted mid-run, so never part of `make test`, whose
# other tests share that cluster. SOAK_ARGS="--seed 7 --kills 40" varies it.
SOAK_ARGS ?=
soak: $(STAMP)
	$(BIN)/python -m tests.crash_trial --kills 20 --seconds 240 --restart-postgres $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
