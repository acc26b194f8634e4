# The two commands of the README: `make demo` (ingest the sample articles, answer a question) and
# `make test` (the whole suite). Both set up .venv from scratch on a bare machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUESTION ?= What did Canada promise in the Ukraine security guarantees?

.PHONY: demo test install install-test bench-ingest bench-query clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/newsdesk ingest examples/articles
	$(BIN)/newsdesk ask "$(QUESTION)"

test: install-test
	$(BIN)/python -m pytest

bench-ingest:
	bench/ingest

bench-query:
	bench/query

clean:
	rm -rf $(VENV) .newsdesk .pytest_cache
