# Two commands on a fresh machine with Python 3.11 and make:
#   make build   creates .venv, installs the pinned dependencies, builds dist/ and grades the solution
#   make test    sets up what it needs (headless Chromium for the render test, the handout's wheels for
#                the fresh-environment test) and runs the whole pytest suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: build test bench venv clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

build: $(STAMP)
	$(VENV)/bin/backprop-kit build

test: $(STAMP)
	bash scripts/ensure-chromium
	bash scripts/ensure-wheelhouse
	$(VENV)/bin/python -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/backprop-kit bench

clean:
	rm -rf dist
