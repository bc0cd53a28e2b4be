# contactgraph: everything runs from a project-local virtual environment, .venv.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
SHARED ?= ../shared
ARGS ?=
# GraphiQL's scripts and styles, once fetched by `make graphiql`; `make run` serves them from here.
GRAPHIQL_ASSETS ?= $(CURDIR)/graphiql/assets

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# bench/ may not exist yet (git does not keep empty folders).
CODE := $(wildcard contactgraph tests bench loadtest)

.PHONY: venv run graphiql test lint typecheck schema contract bench load clean

venv: $(STAMP)

# Re-installs whenever pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "contactgraph needs Python 3.11 or newer; try: make PYTHON=python3.12 ..." >&2; exit 1; }
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	@echo "installing contactgraph and its development tools into $(VENV) ..."
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e ".[dev]"
	touch $(STAMP)

run: venv
	CONTACTGRAPH_GRAPHIQL_ASSETS="$${CONTACTGRAPH_GRAPHIQL_ASSETS-$(GRAPHIQL_ASSETS)}" \
		$(BIN)/contactgraph serve --demo --host $(HOST) --port $(PORT)

# Once, with npm: GraphiQL works offline (else its page loads them from the CDN).
graphiql:
	bash graphiql/install.sh "$(GRAPHIQL_ASSETS)"

test: venv
	$(BIN)/pytest $(ARGS)

lint: venv
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: venv
	$(BIN)/mypy contactgraph

schema: venv
	@$(BIN)/contactgraph schema

contract: venv
	$(BIN)/contactgraph schema | $(BIN)/python $(SHARED)/tools/contract_check.py -

# Each prints one JSON line; on the engine CONTACTGRAPH_MONGODB_URL names (memory:// by default).
bench: venv
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/import_isolation.py
	$(BIN)/python bench/export_bench.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/round_trips.py
	$(BIN)/python bench/api_overhead.py
	$(BIN)/python bench/phone_parse.py

# 50 clients against uvicorn on 127.0.0.1 for LOAD_SECONDS, then invariants; non-zero exit if one breaks.
LOAD_SECONDS ?= 60
load: venv
	$(BIN)/python -m loadtest.load --seconds $(LOAD_SECONDS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
