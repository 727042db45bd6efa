# seqlab: `make train` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
# CUDA torch: e.g. `make install TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128`
TORCH_INDEX_URL ?=
ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install train test lint format clean notebooks lab

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX_URL),$(BIN)/pip install torch==2.13.0 --index-url $(TORCH_INDEX_URL))
	$(BIN)/pip install -c requirements.lock -e '.[dev]'
	touch $@

train: install  ## train the default model (pass overrides as ARGS="model=gru ...")
	$(BIN)/python train.py $(ARGS)

test: install  ## the whole test suite (offline, CPU)
	$(BIN)/python -m pytest $(ARGS)

NOTEBOOKS := $(patsubst %.py,%.ipynb,$(wildcard notebooks/[0-9]*.py))

notebooks: install $(NOTEBOOKS)  ## build the lab notebooks (.ipynb, no outputs) from their .py sources
	@echo "Open them with: make lab   (JupyterLab; or any Jupyter: jupyter lab notebooks/)"

notebooks/%.ipynb: notebooks/%.py
	$(BIN)/jupytext --to ipynb --output $@ $<

lab: notebooks  ## open the lab tutorials in JupyterLab (installs it on first use)
	$(BIN)/pip install -c requirements.lock -e '.[dev,lab]'
	$(BIN)/jupyter lab notebooks/

lint: install  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) logs
