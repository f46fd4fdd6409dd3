# Two commands: `make run` and `make test`. Both install exactly the versions in uv.lock into .venv
# (uv sync --locked); a stamp named after the lock's hash skips the install when nothing changed.
# `make lock` refreshes uv.lock from pyproject.toml's ranges; `make test-latest` tries the newest releases.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv itself lives in its own small venv: `uv sync` makes .venv hold exactly the lock, nothing else.
TOOLS := .tools
UV_VERSION := 0.13.8
UV := $(TOOLS)/bin/uv
HASH := $(shell sha256sum uv.lock | cut -c1-16)
RUN_STAMP := $(VENV)/.stamp-run-$(HASH)
TEST_STAMP := $(VENV)/.stamp-test-$(HASH)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
SYSTEM_PACKAGES := bubblewrap chromium iproute2 util-linux fonts-nanum fonts-noto-color-emoji postgresql
# llama-cpp-python (the test extra's local LLM server) builds llama.cpp from source. Built for the
# native CPU it uses AMX where the CPU has it, and dies with SIGILL in the server's worker threads;
# AVX2 runs on any x86-64 CI here.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
PYTEST_ARGS ?=

.PHONY: run test test-latest train lint lock lock-check bench system-deps clean

# serve indexes the bank (only what changed) and loads the models before it listens.
run: $(RUN_STAMP)
	$(BIN)/interviewer serve

test: lint system-deps
	bash scripts/offline-pytest.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (with the import order) and mypy over the package (settings in pyproject.toml).
lint: $(TEST_STAMP)
	$(BIN)/ruff check interviewer tests bench
	$(BIN)/mypy

# Rebuilds the grading model from knowledge/training/ with a fixed seed, on the CPU (2 cores: see
# docs/grader.md "The grading model"). torch is the `train` extra, training-only: uv.lock records PyPI's
# torch 2.13.0, whose Linux wheel is a CUDA build of several GB, so pip installs that version's CPU build
# instead where the machine offers it (this kind of machine has it on disk; pip elsewhere falls back to
# PyPI's). uv venvs have no pip of their own: ensurepip brings the one Python ships.
TORCH := torch==2.13.0
MODEL_OUT ?= interviewer/grading/model
train: $(RUN_STAMP)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet '$(TORCH)'
	$(BIN)/python -m interviewer.training.train --out $(MODEL_OUT)

bench: $(TEST_STAMP)
	$(BIN)/python bench/run_all.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Someone edited pyproject.toml and not uv.lock (or the other way round): stop before installing anything.
# Offline, so a stale lock fails at once instead of being resolved again.
LOCK_CHECK = @$(UV) lock --check --offline >/dev/null 2>&1 || { echo "uv.lock does not match pyproject.toml: run \`make lock\`" >&2; exit 2; }

lock-check: | $(UV)
	$(LOCK_CHECK)

# Brings uv.lock in line with pyproject.toml, keeping every pin that still fits (the same file when
# nothing changed); `make lock UPGRADE=1` moves every package to the newest release the ranges allow.
lock: | $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)

$(RUN_STAMP): uv.lock pyproject.toml | $(UV)
	$(LOCK_CHECK)
	$(UV) sync --locked --quiet
	rm -f $(VENV)/.stamp-*
	touch $@

# llama-cpp-python is built from source (no-binary in pyproject.toml) with the AVX2 flags; refreshed so
# that a wheel built earlier with other flags is never taken from uv's cache.
$(TEST_STAMP): uv.lock pyproject.toml | $(UV)
	$(LOCK_CHECK)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(UV) sync --locked --quiet --extra test --refresh-package llama-cpp-python
	rm -f $(VENV)/.stamp-*
	touch $@ $(RUN_STAMP)

# The suite in a throw-away venv with the newest releases pyproject.toml's ranges allow, and how they
# differ from uv.lock: how we learn that an upstream release broke us before a user does. Not in CI.
test-latest: system-deps | $(UV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" bash scripts/test-latest.sh $(UV) $(PYTEST_ARGS)

# The sandbox needs bubblewrap, the browser tests Debian's chromium, a Korean font (fonts-nanum,
# else screenshots show empty boxes) and an emoji font (fonts-noto-color-emoji), the shared-history tests and the replicas benchmark a real
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
	rm -rf $(VENV) $(TOOLS) .pytest_cache
