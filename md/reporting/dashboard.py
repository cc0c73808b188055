"""An experiment's W&B Report, built by code (wandb-workspaces) from the runs md.report found.

    report = build(runs, "my-team", "md")
    spec(report)       # the report as JSON: panels, filters, grouping (written offline)
    publish(report)    # saved on the W&B server; returns its URL

One section per experiment (W&B group). Its runset selects exactly that experiment's runs: the
group and every tag its runs share (`Group = 'lambda_sweep'` and `Tags in ['mix:md']` ...). The
first panel grid is Table 1's view: a runs table grouped by student family × size × mix (and by
whichever of λ, N and the training fraction the experiment varies) with an accuracy column per
dataset and inference method, and a bar chart per dataset. The second, when the experiment
sweeps λ or sampled N paths, draws accuracy against λ (`axis/lambda`, logged with each job's
accuracies) and against N (`eval/<dataset>/curve/n`), one line per student × mix. With several
seeds every panel shows the mean over seeds and a standard-deviation band or error bar. MD's
paired differences with the other mixes (md.reporting.paired) are a markdown block: W&B panels
cannot pair runs question by question.

wandb-workspaces is imported only here; building needs no server, saving does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from md.errors import MDError
from md.reporting.collect import Run
from md.reporting.paired import paired_table
from md.reporting.tables import COLUMN_NAMES, MIXES, dataset_order
from md.tracking.loggers import ablation_tags

LINE_METHODS = ("cot_w_pot", "cot", "pot")  # the accuracies drawn against λ and N


def _wr():
    try:
        import wandb_workspaces.reports.v2 as wr
    except ImportError:
        raise MDError("--dashboard needs wandb-workspaces: pip install wandb-workspaces") from None
    return wr


def run_tags(run: Run) -> set[str]:
    """The tags the job this run came from was given (md.config.builders.logger)."""
    if run.mix in ("ensemble", "few-shot"):  # an md.evaluate job: its data is all it surely has
        return set(ablation_tags({"data": run.test_data}, None))
    choices = {"data": run.train_data, "mix": run.mix, "loss": run.loss}
    return set(ablation_tags({k: v for k, v in choices.items() if v != "?"}, run.lam,
                             student=run.student if run.student != "?" else None, seed=run.seed))


def selection(runs: Sequence[Run]) -> tuple[str, list[str]]:
    """(group, tags every run carries): the filter that selects exactly these runs in W&B."""
    groups = {r.experiment for r in runs}
    if len(groups) != 1:
        raise MDError(f"one experiment per section; got {sorted(groups)}")
    shared = set.intersection(*(run_tags(r) for r in runs))
    return groups.pop(), sorted(shared)


def filter_string(group: str, tags: Sequence[str]) -> str:
    clauses = [f"Metric(\"Group\") == '{group}'"] + [f"Metric(\"Tags\") in ['{t}']" for t in tags]
    return " and ".join(clauses)


def build(runs: Sequence[Run], entity: str, project: str, title: str | None = None):
    """The wandb-workspaces Report for `runs` (one section per experiment)."""
    wr = _wr()
    if not runs:
        raise MDError("no evaluated runs to build a dashboard from")
    by_experiment: dict[str, list[Run]] = {}
    for r in runs:
        by_experiment.setdefault(r.experiment, []).append(r)
    blocks: list[Any] = []
    for name in sorted(by_experiment):
        blocks += _section(wr, by_experiment[name], entity, project)
    names = ", ".join(sorted(by_experiment))
    return wr.Report(project=project, entity=entity, title=(title or f"md: {names}")[:128],
                     description="Built by `python -m md.report --dashboard` from the runs of "
                                 f"{names}.", blocks=blocks)


def _section(wr, runs: Sequence[Run], entity: str, project: str) -> list:
    group, tags = selection(runs)
    datasets = dataset_order({r.test_data for r in runs})
    methods = {d: [m for m in (*COLUMN_NAMES, "ensemble")
                   if any(m in r.accuracy for r in runs if r.test_data == d)] for d in datasets}
    varies = {axis: len({getattr(r, attr) for r in runs}) > 1
              for axis, attr in (("loss.lambda", "lam"), ("inference.paths", "paths"),
                                 ("data.train_fraction", "train_fraction"))}
    seeds = len({r.seed for r in runs}) > 1
    spread = {"groupby_aggfunc": "mean", "groupby_rangefunc": "stddev"} if seeds else {}
    by_student_mix = ["config.student.family", "config.student.size", "config.mix.variant"]
    filters = filter_string(group, tags)
    summary = [f"summary:eval/{d}/{m}" for d in datasets for m in methods[d]]
    table = wr.Runset(entity=entity, project=project, name=f"{group}: runs", filters=filters,
                      groupby=by_student_mix + [f"config.{a}" for a, on in varies.items() if on],
                      pinned_columns=["config:student.family.value", "config:student.size.value",
                                      "config:mix.variant.value", "config:loss.mode.value",
                                      "config:loss.lambda.value", "config:seed.value", *summary])
    bars = [wr.BarPlot(title=f"{d}: accuracy by student × mix",
                       metrics=[wr.SummaryMetric(f"eval/{d}/{m}") for m in methods[d]],
                       orientation="v", **spread) for d in datasets]
    what = ", ".join(MIXES.get(m, m) for m in sorted({r.mix for r in runs}))
    blocks = [wr.H2(f"{group}"),
              wr.P(f"{len(runs)} runs ({what}); filter: {filters}"
                   + (f"; mean ± std over {len({r.seed for r in runs})} seeds" if seeds else "")),
              wr.PanelGrid(runsets=[table], panels=bars)]
    lines = []
    if varies["loss.lambda"]:
        lines += [wr.LinePlot(title=f"{d}: accuracy vs λ", x="axis/lambda",
                              y=[f"eval/{d}/{m}" for m in LINE_METHODS if m in methods[d]],
                              title_x="λ", title_y="accuracy", **spread) for d in datasets]
    if any(r.paths and r.paths > 1 for r in runs):
        lines += [wr.LinePlot(title=f"{d}: accuracy vs sampled paths N", x=f"eval/{d}/curve/n",
                              y=[f"eval/{d}/curve/{m}" for m in LINE_METHODS if m in methods[d]],
                              title_x="N (paths per method)", title_y="accuracy", **spread)
                  for d in datasets]
    paired = paired_table(runs)
    if paired:  # a snapshot: W&B panels cannot pair runs question by question
        blocks += [wr.H3("MD against the other mixes, on the same questions"),
                   wr.MarkdownBlock(text=paired)]
    if lines:
        curves = wr.Runset(entity=entity, project=project, name=f"{group}: curves",
                           filters=filters, groupby=by_student_mix + ["config.loss.mode"])
        blocks.append(wr.PanelGrid(runsets=[curves], panels=lines))
    return blocks


def spec(obj: Any) -> Any:
    """A wandb-workspaces object as plain JSON: its type and the fields it sets."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name, None)
            if f.name.startswith("_") or f.name in ("layout", "id") or value in (None, "", [], {}):
                continue
            out[f.name] = spec(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [spec(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): spec(v) for k, v in obj.items()}
    return obj


def publish(report) -> str:
    """Save the report on the W&B server (needs WANDB_API_KEY and network); its URL.

    The server and key are checked first, in a few seconds (md.tracking.loggers.probe_server):
    wandb's own client retries an unreachable server for minutes."""
    from md.tracking.loggers import probe_server, wandb_server

    base, key = wandb_server()
    if not key:
        raise MDError("--publish: not logged in to W&B; run `wandb login` (or set WANDB_API_KEY), "
                      "or open the written specification instead")
    ok, why = probe_server(base, key)
    if not ok:
        raise MDError(f"--publish: {why}; the specification is written, publish it once W&B "
                      "answers")
    try:
        report.save()
        return report.url
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MDError(f"--publish: saving the report failed ({first}); check `wandb login` and "
                      "the network, or open the written specification instead") from None

