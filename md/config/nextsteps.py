"""The short block md.train ends with: where the results are and what to run next.

A first run (`python -m md.train`, the embedded default) is where a new user decides whether md
works, so it closes by pointing at the next three steps up: the miniature Table 1, a real
pretrained student on real data, and the paper's own run.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

NEXT = (
    ("make demo", "label-, CoT-, PoT- and MD-distilled students side by side (~15 min, CPU)"),
    ("python -m md.train student=smollm2-135m data=svamp data.path=../shared/data/svamp "
     "teacher=published teacher.path=../shared/data/teacher_outputs",
     "a real pretrained student on SVAMP with published teacher thoughts (CPU, offline)"),
    ("python -m md.train student=codellama-7b data=gsm8k logger=wandb",
     "the paper's run: GPT-3.5 teacher (OPENAI_API_KEY), QLoRA on a GPU"),
)


def is_embedded_default(cfg: DictConfig) -> bool:
    """The run `python -m md.train` makes with no arguments: synthetic data, simulated teacher."""
    teacher = str((cfg.get("teacher") or {}).get("_target_", ""))
    return ((cfg.get("data") or {}).get("name") == "synthetic"
            and teacher.endswith("build_simulated_teacher")
            and cfg.get("experiment_name") == "default")


def block(cfg: DictConfig, run_dir: Path, seconds: float, evaluated: bool) -> str:
    """`done in 2m41s`, where the results are, and (after the embedded default) what next."""
    minutes, secs = divmod(round(seconds), 60)
    lines = [f"done in {minutes}m{secs:02d}s · run folder {run_dir}"]
    if evaluated:
        lines.append(f"results: {run_dir / 'eval' / 'metrics.json'} "
                     f"(curves.md, curves.png and predictions beside it)")
    if is_embedded_default(cfg):
        lines.append("next:")
        lines += [f"  {cmd}    # {why}" for cmd, why in NEXT]
    return "\n".join(lines)
