"""What this machine can do, decided once: the device, whether bf16 is native, which sampler runs.

The defaults follow the hardware (`trainer.accelerator=auto`, `trainer.precision=auto`,
`inference.engine=auto`), and these functions say what `auto` becomes here:

    device_name()            # "cuda (NVIDIA H200 x1)" or "cpu (AMD EPYC, 2 cores, AVX2)"
    auto_precision("auto")   # "bf16-mixed" on a bf16 GPU or an AMX/AVX512-BF16 CPU, else "32-true"
    vllm_installed()         # importable, without importing it (vllm's import takes seconds)

bf16 on a CPU is only fast where the CPU has bf16 instructions (AMX, AVX512-BF16): elsewhere
(AVX2) PyTorch emulates it and oneDNN falls back to slow kernels, so `auto` stays in fp32 there.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

# /proc/cpuinfo flags of CPUs that compute bf16 matmuls in hardware
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


# A CUDA (or ROCm) device shows one of these; without any, torch.cuda cannot see a GPU, and
# asking it costs torch's import (seconds) in stages that never touch a tensor (a dry run)
GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/kfd")


@cache
def cuda_available() -> bool:
    if not any(os.path.exists(p) for p in GPU_DEVICE_FILES):
        return False
    import torch

    return torch.cuda.is_available()


@cache
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no flags known, so no bf16 assumed
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_bf16() -> bool:
    """The CPU computes bf16 in hardware (AMX or AVX512-BF16)."""
    return any(flag in cpu_flags() for flag in CPU_BF16_FLAGS)


def cuda_bf16() -> bool:
    """The GPU computes bf16 natively: compute capability 8.0 (Ampere) or newer. torch's
    is_bf16_supported() also says True on a V100 or T4, where bf16 is emulated and vLLM refuses it."""
    import torch

    return cuda_available() and torch.cuda.get_device_capability(0) >= (8, 0)


def sampling_dtype() -> str:
    """The dtype vLLM samples in here: bf16 where the device computes it natively; else fp16 on
    a GPU (vLLM's own choice below compute capability 8.0) and fp32 on a CPU."""
    if cuda_available():
        return "bfloat16" if cuda_bf16() else "float16"
    return "bfloat16" if cpu_bf16() else "float32"


def on_gpu(accelerator: str) -> bool:
    """Whether a trainer with this `accelerator` trains on a CUDA GPU."""
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and cuda_available())


def auto_precision(precision: str, accelerator: str = "auto") -> str:
    """`trainer.precision`, with `auto` resolved: bf16 autocast where the device does bf16
    natively (Ampere+ GPUs; CPUs with AMX or AVX512-BF16, measured ~2x faster than fp32 on a
    135M LoRA student), fp32 where it would be emulated. Any other value is returned as it is."""
    if str(precision) != "auto":
        return str(precision)
    native = cuda_bf16() if on_gpu(accelerator) else cpu_bf16()
    return "bf16-mixed" if native else "32-true"


def resolved(trainer_args: Mapping[str, Any]) -> dict[str, Any]:
    """lightning.Trainer arguments (md.settings.TrainSettings.trainer_args) with
    `precision: auto` resolved for this machine (auto_precision)."""
    args = dict(trainer_args)
    if str(args.get("precision")) == "auto":
        args["precision"] = auto_precision("auto", str(args.get("accelerator", "auto")))
    return args


def device_name(accelerator: str = "auto") -> str:
    """The device a run will use, in words, for the plan line."""
    if on_gpu(accelerator):
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)} x{torch.cuda.device_count()})"
    isa = "AMX" if "amx_bf16" in cpu_flags() else "AVX512-BF16" if cpu_bf16() else \
        "AVX512" if "avx512f" in cpu_flags() else "AVX2" if "avx2" in cpu_flags() else "no AVX2"
    return f"cpu ({os.cpu_count()} cores, {isa})"


def world_size(devices, num_nodes=1, accelerator: str = "auto") -> int:
    """The processes a trainer with these `trainer.devices` / `num_nodes` runs: -1 or "auto" on
    a GPU is every visible GPU (as Lightning counts them), a list or "0,1" its length."""
    if isinstance(devices, str):
        text = devices.strip()
        devices = -1 if text in ("auto", "-1") else \
            [d for d in text.split(",") if d.strip()] if "," in text else int(text)
    if isinstance(devices, (list, tuple)):
        count = len(devices)
    elif int(devices) < 0:
        import torch

        count = torch.cuda.device_count() if on_gpu(accelerator) else 1
    else:
        count = int(devices)
    return max(1, count) * max(1, int(num_nodes or 1))


def local_rank() -> int:
    """This process's GPU on its node: LOCAL_RANK (torchrun, Lightning's own launcher), else
    SLURM_LOCALID (srun, hydra/launcher=slurm, which set no LOCAL_RANK), else 0. A 4-bit student
    is quantised straight onto this GPU, so every rank must name its own."""
    for var in ("LOCAL_RANK", "SLURM_LOCALID"):
        value = os.environ.get(var, "").strip()
        if value.isdigit():
            return int(value)
    return 0


@cache
def vllm_installed() -> bool:
    """vllm can be imported here (checked without importing it)."""
    return importlib.util.find_spec("vllm") is not None
