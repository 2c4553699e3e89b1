# circle-node: the two commands a newcomer runs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The machine's PostgreSQL (trust auth); tests skip without it, except under CI=true.
export CIRCLE_NODE_TEST_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install browser nginx test demo lint lock bench bench-quick bench-network soak fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's chromium package (never a downloaded browser): install it
# when it is missing and apt-get is there. Without it they skip, or fail under CI=true.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the chromium package for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      || echo "Could not install chromium; the browser tests will skip (fail under CI=true)" >&2; \
	  else \
	    echo "chromium is missing and there is no apt-get: install it to run the browser tests" >&2; \
	  fi; }

# The test of several workers behind a reverse proxy runs its own instance of Debian's nginx
# (never the machine's service): installed like chromium, and skipped without it.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the nginx package for the test behind a reverse proxy"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx \
	      || echo "Could not install nginx; the test behind a proxy will skip (fail under CI=true)" >&2; \
	  else \
	    echo "nginx is missing and there is no apt-get: install it to run the test behind a proxy" >&2; \
	  fi; }

test: $(STAMP) browser nginx
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/circle-node demo

lint: $(STAMP)
	$(BIN)/ruff check domain federation node tests bench fuzz
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint docker/Dockerfile

# The image's dependencies (docker/Dockerfile), each pinned with its hashes: the node's own with
# PostgreSQL, and what builds it. Run after changing the dependencies in pyproject.toml:
# tests/test_docker_lock.py fails while the lock is behind. Versions already locked are kept
# where they still fit; `make lock LOCK_FLAGS=--upgrade` takes the newest that fit.
LOCK_FLAGS ?=
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml docker/build-requirements.in --extra postgres \
	  --generate-hashes --python-version 3.11 --python-platform linux \
	  --custom-compile-command "make lock" --quiet --output-file docker/requirements.lock $(LOCK_FLAGS)

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# A network of a thousand circles on five host processes, and one co-op policy through it
# (bench/network.py): about ten minutes, so not part of `make bench`.
bench-network: $(STAMP)
	$(BIN)/python -m bench --only network

# The long versions of the reliability tests (SIGKILLs, outages, faults): about 30 minutes.
soak: $(STAMP)
	CIRCLE_NODE_SOAK=1 $(BIN)/python -m pytest tests/reliability -q

# Long runs of the hostile-input tests: atheris on entry decoding, schemathesis at 500
# examples per operation, the Hypothesis properties at 20 times their examples (~30 min).
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[fuzz]'
	$(BIN)/python fuzz/entries.py -max_total_time=$(FUZZ_SECONDS)
	CIRCLE_NODE_SCHEMATHESIS_EXAMPLES=500 $(BIN)/python -m pytest tests/test_schemathesis.py -q
	CIRCLE_NODE_FUZZ_SCALE=20 $(BIN)/python -m pytest -q tests/federation/test_decoders_fuzz.py \
	  tests/node/test_inbound_fuzz.py tests/node/test_archive_fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
