# Deep Learning, from Neurons to Attention: build, test and read the book.
# `make book` and `make test` set up everything they need on a fresh clone (Python 3.11 and make).

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Notebooks run in parallel (nbval, or jupyter-cache for `make book`): one torch thread each, since two
# processes with two threads each slow training 4x on 2 cores.
NB_WORKERS ?= 2
# Seconds one cell may run before it fails, naming the notebook and cell (a hung kernel must not eat CI).
CELL_TIMEOUT ?= 120
ONE_THREAD := LESSONS_STATIC=1 LESSONS_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
EXECUTED := _build/executed
# This machine's pip configuration lists local indexes that do not exist: drop pip's warnings about them.
PIP_QUIET := { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: help install book html test test-lib test-notebooks test-browser lint lab serve bench clean distclean

help:
	@echo "make book    build the HTML book into _build/html (creates .venv first if needed)"
	@echo "make test    library tests, every notebook through nbval, the built book in headless Chromium"
	@echo "make lab     JupyterLab on book/          make serve   the built book on http://127.0.0.1:8000"
	@echo "make bench   notebook run times and experiment latencies -> bench/results.md"
	@echo "make clean   remove build outputs          make distclean   also remove .venv"

install: $(STAMP)

# Re-run whenever the pinned requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml book/_ext/install_torch.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | $(PIP_QUIET)
	@# torch first, pinned exactly, in the build that fits this machine: CPU unless an NVIDIA GPU is found
	@# (TORCH_BUILD=cpu|cuda|skip overrides; see README). PyPI's Linux wheel alone would pull GBs of CUDA.
	$(BIN)/python book/_ext/install_torch.py "$$(sed -n 's/^torch==//p' requirements.txt)" 2>&1 | $(PIP_QUIET)
	$(BIN)/python -m pip install -q -r requirements.txt 2>&1 | $(PIP_QUIET)
	$(BIN)/python -c "import lessons_lib, torch, jupyter_book, nbval, playwright; print('environment ready: torch', torch.__version__)"
	@touch $@

# Each notebook is executed once: in parallel into jupyter-cache (book/_ext/execute.py), then the HTML
# is built from the cache. A failing or hung cell fails here, with the notebook and the cell named.
book: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees _build/.jupyter_cache $(EXECUTED)
	$(ONE_THREAD) $(BIN)/python book/_ext/execute.py run --timeout $(CELL_TIMEOUT)
	$(MAKE) --no-print-directory html

# The HTML from the notebooks already in the cache (`make book` or `make test-notebooks` fill it).
html: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	LESSONS_STATIC=1 $(BIN)/jupyter-book build --all -W -n --keep-going . || { \
	    for log in $$(find _build/html/reports -name '*.err.log' 2>/dev/null); do \
	        echo "=== failing cell in $$log"; grep -v '^  File\|^    ' "$$log" | tail -n 25; done; exit 1; }
	@echo "book built: _build/html/index.html"

# nbval executes every notebook once and keeps the outputs; the HTML build reuses them.
test: lint test-lib test-notebooks html test-browser

lint: $(STAMP)
	$(BIN)/ruff check lessons_lib tests bench book/_ext book/conftest.py

test-lib: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/browser -q -n $(NB_WORKERS)

test-notebooks: $(STAMP)
	rm -rf $(EXECUTED) _build/.jupyter_cache
	$(ONE_THREAD) LESSONS_EXECUTED_DIR=$(EXECUTED) \
	    $(BIN)/pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider \
	    -n $(NB_WORKERS) --dist loadfile -q book
	$(BIN)/python book/_ext/execute.py import $(EXECUTED)

test-browser: $(STAMP)
	$(BIN)/pytest tests/browser -q -p no:cacheprovider

# With book/_ext/lab_nodelay.py: the kernel's websocket sends each message at once (up to 40 ms sooner).
lab: $(STAMP)
	PYTHONPATH=book/_ext $(BIN)/jupyter lab --ServerApp.jpserver_extensions="{'lab_nodelay': True}" book/

serve:
	@test -f _build/html/index.html || (echo "no built book: run 'make book' first" && exit 1)
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
