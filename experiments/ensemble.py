"""Evaluate the "ensemble" row of Table 1 / 2 / 3 for every cell of a finished sweep.

    python experiments/ensemble.py runs/table1 [--dry-run] [--resample] [-- extra overrides]

The ensemble is a CoT-distilled and a PoT-distilled student of the same student x dataset x
training-size x seed, voted together (md.evaluate inference.ensemble=[COT, POT]). This finds
every such pair among the training runs under the given folder (a run = a folder with
.hydra/config.yaml and student/) and evaluates each pair into <folder>/ensemble/<cell>/, in
the same W&B group, so `python -m md.report <folder>` shows the ensemble rows beside the rest.
When both students' own evaluations (<run>/eval, written by md.train) are there, the pair's
row votes the paths they already sampled (inference.reuse_paths=true: seconds, no model loaded);
--resample samples them again.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parent.parent / "conf" / "experiment"


def training_runs(root: Path) -> dict[tuple, dict[str, Path]]:
    """{(student, data, fraction, seed): {mix: run folder}} for the runs under `root`."""
    cells: dict[tuple, dict[str, Path]] = {}
    for config in sorted(root.rglob(".hydra/config.yaml")):
        run = config.parent.parent
        if not (run / "student").is_dir():
            continue  # an evaluation, not a training run
        cfg = OmegaConf.load(config)
        key = (cfg.student.name, cfg.data.name, cfg.data.get("train_fraction", 1.0), cfg.seed)
        cells.setdefault(key, {})[cfg.mix.variant] = run
    return cells


def commands(root: Path, extra: list[str], resample: bool = False) -> list[list[str]]:
    """One md.evaluate command per cell that has both a cot and a pot run."""
    out = []
    for (student, data, fraction, seed), mixes in sorted(training_runs(root).items()):
        if "cot" not in mixes or "pot" not in mixes:
            continue
        cfg = OmegaConf.load(mixes["cot"] / ".hydra" / "config.yaml")
        dest = root / "ensemble" / f"{student}_{data}_f{fraction}_s{seed}"
        path = cfg.data.get("path")
        exp = cfg.experiment_name  # its own experiment file, when it has one: same inference knobs
        named = f"experiment={exp}" if (CONF / f"{exp}.yaml").exists() else f"experiment_name={exp}"
        out.append([sys.executable, "-m", "md.evaluate", f"data={data}", named, f"seed={seed}",
                    *([f'data.path="{path}"'] if path else []),
                    f'inference.ensemble=["{mixes["cot"] / "student"}","{mixes["pot"] / "student"}"]',
                    f'hydra.run.dir="{dest}"', f'out_dir="{dest}"',
                    *([] if resample or not _evaluated(mixes) else ["inference.reuse_paths=true"]),
                    *extra])
    return out


def _evaluated(mixes: dict[str, Path]) -> bool:
    """Both students of the pair have their own finished evaluation to reuse the paths of."""
    return all((mixes[m] / "eval" / "metrics.json").is_file() for m in ("cot", "pot"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("root", type=Path, help="a sweep's runs folder, e.g. runs/table1")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    p.add_argument("--resample", action="store_true",
                   help="sample the ensemble's paths again instead of reusing the students' own")
    p.add_argument("extra", nargs="*", help="more md.evaluate overrides (after --)")
    args = p.parse_args(argv)
    cmds = commands(args.root, args.extra, args.resample)
    if not cmds:
        print(f"error: no student x dataset under {args.root} has both a mix=cot and a mix=pot "
              "run", file=sys.stderr)
        return 2
    for cmd in cmds:
        print(shlex.join(["python", *cmd[1:]]), flush=True)
        if not args.dry_run and subprocess.run(cmd).returncode != 0:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
