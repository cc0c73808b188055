"""Build paper-style tables and plots from a set of runs.

    python -m md.report runs/table1                          # markdown table to stdout
    python -m md.report runs/lambda_sweep runs/smoke --out results/report.md   # + PNG plots beside it
    python -m md.report --wandb my-team/md --group table1 --out table1.md   # from the W&B API
    python -m md.report runs/lambda_sweep --out runs/lambda_sweep/report.md --dashboard my-team/md
    python -m md.report runs/lambda_sweep --dashboard my-team/md --publish   # saved on W&B

Local runs: every folder under the given paths with an evaluation's metrics.json (see
md.reporting.collect). Output: one accuracy table (rows = student / mix / loss-λ / size,
columns = test dataset x {+CoT, +PoT, +CoT w/PoT, cascade, greedy}), the Fig. 1 type shares
when md.mix statistics are among the paths, the list of run folders, and the plots the runs
support (accuracy vs λ, vs sampled paths N, vs training-set size). Runs of several seeds give
mean ± std per cell, and MD is compared with the other mixes on the same questions (paired
differences pooled over seeds and questions, with a bootstrap interval and the smallest
difference the design resolves, md.reporting.paired). Runs trained from different teachers
(teacher.models) are rows of their own, and MD of one teacher is set against MD of another.

--dashboard ENTITY/PROJECT builds the experiment's W&B Report with wandb-workspaces
(md.reporting.dashboard) and writes its specification, `<report>.wandb.json`, beside the
markdown (offline: no server needed); --publish also saves it on the W&B server and prints its URL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from md.config.cli import report_errors
from md.errors import MDError
from md.reporting import plots, tables
from md.reporting.collect import collect
from md.reporting.paired import paired_table


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m md.report", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="*", help="run folders (searched recursively for metrics.json)")
    p.add_argument("--out", help="write the markdown here (plots go beside it); default: stdout")
    p.add_argument("--plots", help="folder for the PNG plots (default: beside --out; none without)")
    p.add_argument("--wandb", metavar="ENTITY/PROJECT", help="also read runs from the W&B API")
    p.add_argument("--group", help="with --wandb: only this group (= experiment_name)")
    p.add_argument("--dashboard", metavar="ENTITY/PROJECT",
                   help="build the experiment's W&B Report (wandb-workspaces) and write its JSON "
                        "specification beside the markdown")
    p.add_argument("--publish", action="store_true",
                   help="with --dashboard: save the Report on the W&B server and print its URL")
    p.add_argument("--title", help="with --dashboard: the Report's title")
    p.add_argument("--methods", default=",".join(tables.COLUMN_NAMES),
                   help=f"comma-separated columns per dataset (default {','.join(tables.COLUMN_NAMES)})")
    return p.parse_args(argv)


def gather(args: argparse.Namespace) -> tuple[list, list[dict]]:
    """The evaluated runs (local folders, then the W&B API) and the mix statistics."""
    if not args.runs and not args.wandb:
        raise MDError("give run folders (e.g. runs/table1) or --wandb ENTITY/PROJECT")
    runs, mixes = collect(args.runs) if args.runs else ([], [])
    if args.wandb:
        from md.reporting.wandb_runs import from_wandb

        runs += from_wandb(args.wandb, args.group)
    return runs, mixes


def build(args: argparse.Namespace, gathered: tuple[list, list[dict]] | None = None
          ) -> tuple[str, dict[str, str]]:
    """The markdown report and the plots written, {kind: path}."""
    runs, mixes = gathered or gather(args)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    parts = ["# Results", ""]
    if runs:
        parts += ["## Accuracy (%)", "", tables.accuracy_table(runs, methods), ""]
        teachers = sorted({r.teacher for r in runs if r.teacher})
        if teachers:
            parts += ["Teacher: " + "; ".join(teachers) + ".", ""]
    if mixes:
        parts += ["## Teacher thought types (Fig. 1), share of questions (%)", "",
                  tables.types_table(mixes), "",
                  "## λ of the type-3 questions (Fig. 1), questions per bin", "",
                  tables.lambda_table(mixes), ""]
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
        paired = paired_table(runs)
        if paired:
            parts += ["## MD against the other mixes, on the same questions", "", paired, ""]
        parts += ["## Runs", "", tables.runs_list(runs), ""]
    return "\n".join(parts), written


def _dashboard(args: argparse.Namespace, runs):
    """The experiment's W&B Report, its specification written beside the markdown; (report, path)."""
    import json

    from md.reporting import dashboard

    report = dashboard.build(runs, *_entity_project(args.dashboard), args.title)
    base = Path(args.out) if args.out else Path(args.runs[0] if args.runs else ".") / "report.md"
    path = base.with_suffix(".wandb.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dashboard.spec(report), indent=1) + "\n")
    return report, path


def _entity_project(value: str) -> tuple[str, str]:
    if value.count("/") != 1 or not all(value.split("/")):
        raise MDError(f"--dashboard {value!r}: expected ENTITY/PROJECT, e.g. my-team/md")
    entity, project = value.split("/")
    return entity, project


@report_errors
def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.publish and not args.dashboard:
        raise MDError("--publish saves the --dashboard report: add --dashboard ENTITY/PROJECT")
    if args.dashboard:
        _entity_project(args.dashboard)  # a malformed value fails before any work
    gathered = gather(args)
    text, written = build(args, gathered)
    report = None
    if args.dashboard:
        report, spec_path = _dashboard(args, gathered[0])
        written["dashboard"] = str(spec_path)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}" + "".join(f", {p}" for p in written.values()), file=sys.stderr)
    else:
        print(text)
        if report is not None:
            print(f"wrote the W&B Report specification {written['dashboard']}", file=sys.stderr)
    if args.publish:  # last: everything above is on disk whether or not W&B answers
        from md.reporting.dashboard import publish

        print(f"published: {publish(report)}", file=sys.stderr)


if __name__ == "__main__":
    main()
