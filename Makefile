# Two commands: `make run` and `make test`. Both create .venv when missing and install the project;
# a stamp named after the pyproject.toml hash skips the install when nothing changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell sha256sum pyproject.toml | cut -c1-16)
RUN_STAMP := $(VENV)/.stamp-run-$(HASH)
TEST_STAMP := $(VENV)/.stamp-test-$(HASH)
SYSTEM_PACKAGES := bubblewrap chromium iproute2 util-linux fonts-nanum fonts-noto-color-emoji postgresql
# llama-cpp-python (the test extra's local LLM server) builds llama.cpp from source. Built for the
# native CPU it uses AMX where the CPU has it, and dies with SIGILL in the server's worker threads;
# AVX2 runs on any x86-64 CI here. Never from pip's wheel cache, which may hold a native build.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
PYTEST_ARGS ?=

.PHONY: run test lint bench system-deps clean

# serve indexes the bank (only what changed) and loads the models before it listens.
run: $(RUN_STAMP)
	$(BIN)/interviewer serve

test: lint system-deps
	bash scripts/offline-pytest.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (with the import order) and mypy over the package (settings in pyproject.toml).
lint: $(TEST_STAMP)
	$(BIN)/ruff check interviewer tests bench
	$(BIN)/mypy

bench: $(TEST_STAMP)
	$(BIN)/python bench/run_all.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	rm -f $(VENV)/.stamp-run-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-cache-dir 'llama-cpp-python[server]>=0.3'
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.stamp-*
	touch $@ $(RUN_STAMP)

# The sandbox needs bubblewrap, the browser tests Debian's chromium and a Korean font (fonts-nanum,
# else screenshots show empty boxes), the shared-history tests and the replicas benchmark a real
# PostgreSQL server (postgresql: only its binaries are used, in a temp directory, as the postgres
# user; its own service is never started); installed when we may (root + apt).
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages (tests needing them will be skipped):$$missing"; fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
