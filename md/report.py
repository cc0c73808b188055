"""Build paper-style tables and plots from a set of runs.

    python -m md.report runs/table1                          # markdown table to stdout
    python -m md.report runs/lambda_sweep runs/smoke --out results/report.md   # + PNG plots beside it
    python -m md.report --wandb my-team/md --group table1 --out table1.md   # from the W&B API

Local runs: every folder under the given paths with an evaluation's metrics.json (see
md.reporting.collect). Output: one accuracy table (rows = student / mix / loss-λ / size,
columns = test dataset x {+CoT, +PoT, +CoT w/PoT, cascade, greedy}), the Fig. 1 type shares
when md.mix statistics are among the paths, the list of run folders, and the plots the runs
support (accuracy vs λ, vs sampled paths N, vs training-set size).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from md.config.cli import report_errors
from md.errors import MDError
from md.reporting import plots, tables
from md.reporting.collect import collect


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m md.report", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="*", help="run folders (searched recursively for metrics.json)")
    p.add_argument("--out", help="write the markdown here (plots go beside it); default: stdout")
    p.add_argument("--plots", help="folder for the PNG plots (default: beside --out; none without)")
    p.add_argument("--wandb", metavar="ENTITY/PROJECT", help="also read runs from the W&B API")
    p.add_argument("--group", help="with --wandb: only this group (= experiment_name)")
    p.add_argument("--methods", default=",".join(tables.COLUMN_NAMES),
                   help=f"comma-separated columns per dataset (default {','.join(tables.COLUMN_NAMES)})")
    return p.parse_args(argv)


def build(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The markdown report and the plots written, {kind: path}."""
    if not args.runs and not args.wandb:
        raise MDError("give run folders (e.g. runs/table1) or --wandb ENTITY/PROJECT")
    runs, mixes = collect(args.runs) if args.runs else ([], [])
    if args.wandb:
        from md.reporting.wandb_runs import from_wandb

        runs += from_wandb(args.wandb, args.group)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    parts = ["# Results", ""]
    if runs:
        parts += ["## Accuracy (%)", "", tables.accuracy_table(runs, methods), ""]
        teachers = sorted({r.teacher for r in runs if r.teacher})
        if teachers:
            parts += ["Teacher: " + "; ".join(teachers) + ".", ""]
    if mixes:
        parts += ["## Teacher thought types (Fig. 1), share of questions (%)", "",
                  tables.types_table(mixes), ""]
    written: dict[str, str] = {}
    folder = args.plots or (str(Path(args.out).parent) if args.out else None)
    if runs and folder:
        prefix = Path(args.out).stem if args.out else "report"
        written = plots.make_plots(runs, folder, prefix)
        base = Path(args.out).parent if args.out else None
        for kind, path in written.items():
            shown = Path(path).relative_to(base) if base and Path(path).parent == base else path
            parts += [f"![{kind}]({shown})", ""]
    if runs:
        parts += ["## Runs", "", tables.runs_list(runs), ""]
    return "\n".join(parts), written


@report_errors
def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    text, written = build(args)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}" + "".join(f", {p}" for p in written.values()), file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
