"""The evaluation end of the pipeline: a saved student (or an ensemble of two), or a teacher
prompted few-shot, sampled, judged in the sandbox and scored on the test problems.

    python -m md.evaluate student_dir=runs/x/student        # -> evaluate(cfg, students, out_dir)
    python -m md.evaluate few_shot=true teacher=openai       # -> evaluate_few_shot(cfg, out_dir)

Both share one W&B/CSV run per evaluation (`evaluation_run`) and md.evaluate's `score`, so a
few-shot row and a student's row are the same kind of metrics.json. md.pipeline supplies the
test problems and the logger; nothing here knows the upstream stages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig

from md.pipeline import logger, test_problems


@contextlib.contextmanager
def evaluation_run(cfg: DictConfig, log_dir: Path | str) -> Iterator[tuple]:
    """(W&B run or None, sandbox, a callback that logs the final metrics); always finishes the
    logger, as failed when the evaluation raised."""
    from md.evaluation.report import flatten as flat_metrics
    from md.loggers import finish, wandb_run_of
    from md.sandbox import Sandbox

    ex = cfg.execute
    log, failed = logger(cfg, log_dir, "evaluate"), True
    wb = wandb_run_of(log)

    def log_scalars(metrics: dict) -> None:
        if log is not None and wb is None:
            log.log_metrics(flat_metrics(metrics))  # CSV: the scalars (W&B gets them in score)

    try:
        with Sandbox(workers=ex.workers, timeout_s=ex.timeout_s, memory_mb=ex.memory_mb,
                     require_isolation=ex.require_isolation) as sb:
            yield wb, sb, log_scalars
        failed = False
    finally:
        finish(log, failed)


def _stop_rule(cfg: DictConfig):
    from md.evaluation.adaptive import StopRule

    return StopRule(cfg.inference.adaptive.rule, cfg.inference.adaptive.threshold)


def evaluate(cfg: DictConfig, students: tuple[str | Path, ...], out_dir: Path | str,
             log_dir: Path | str | None = None) -> dict:
    """Evaluate one student, or an ensemble (CoT student, PoT student), on the test problems.

    log_dir: where the W&B/CSV run lands (default out_dir); md.train passes its run folder, so
    every W&B run of a job sits in `<run dir>/wandb/`.
    """
    from md import evaluate as stage
    from md import lineage as ln
    from md.config import to_plain
    from md.evaluation import shards
    from md.infer import build_generator, read_manifest

    inf = cfg.inference
    stop = _stop_rule(cfg)  # a bad rule fails before the students load
    if len(students) == 2 and inf.get("reuse_paths"):
        return _ensemble_from_saved(cfg, students, out_dir, log_dir)
    problems = shards.select(test_problems(cfg), inf.shard, inf.shards)
    gens = [build_generator(engine=inf.engine, student_dir=str(s), batch_size=inf.batch_size,
                            max_new_tokens=inf.max_new_tokens, seed=cfg.seed,
                            quantized_base=inf.quantized_base,
                            seed_per_question=inf.seed_per_question or inf.shards > 1,
                            vllm=to_plain(inf.vllm))
            for s in students]
    label = len(students) == 1 and read_manifest(students[0]).get("methods") == ["label"]
    info = {"student_base": [getattr(g, "base_weights", "?") for g in gens]}
    with evaluation_run(cfg, log_dir or out_dir) as (wb, sb, log_scalars):
        metrics = stage.run(
            problems, gens[0], sb, n=inf.paths, temperature=inf.temperature,
            out_dir=out_dir, pot_student=gens[1] if len(gens) > 1 else None,
            vote_paths=inf.vote_paths, label=label, greedy=inf.greedy,
            draws=inf.curves.draws, ci=inf.curves.ci, stop=stop,
            round_size=inf.adaptive.round_size, live_adaptive=inf.adaptive.live,
            seed=cfg.seed, wandb_run=wb, info=info)
        if wb is not None:
            used = [ln.student_files(s, _finetune_of(s)) for s in students]
            ln.log_lineage(wb, used, [ln.evaluation_files(out_dir, wb.id)])
        log_scalars(metrics)
    if inf.shards > 1:
        shards.mark(out_dir, inf.shard, inf.shards)
    return metrics


def merge_shards(cfg: DictConfig, dirs, out_dir: Path | str) -> dict:
    """One evaluation's metrics, curves and report from its K shard folders (md.evaluation.shards)."""
    from md.evaluation import shards

    problems = test_problems(cfg)
    paths = shards.merge(dirs, problems, cfg.inference.paths, cfg.inference.temperature)
    return _score_saved(cfg, problems, paths, out_dir, out_dir, "single",
                        {"merged_shards": [str(d) for d in dirs]})


def _ensemble_from_saved(cfg: DictConfig, students: tuple[str | Path, ...], out_dir: Path | str,
                         log_dir: Path | str | None) -> dict:
    """The ensemble row voted from the paths each student's own evaluation sampled
    (md.evaluation.reuse): nothing is loaded or generated."""
    from md.evaluation import reuse

    inf, problems = cfg.inference, test_problems(cfg)
    cot, pot = (reuse.saved_paths(reuse.eval_dir_of(s), problems, inf.paths, inf.temperature)
                for s in students)
    paths = reuse.ensemble_paths(cot, pot, inf.paths, inf.greedy)
    return _score_saved(cfg, problems, paths, out_dir, log_dir or out_dir, "ensemble",
                        {"reused_paths_from": [str(reuse.eval_dir_of(s)) for s in students]})


def _score_saved(cfg: DictConfig, problems, paths, out_dir: Path | str, log_dir: Path | str,
                 students: str, info: dict) -> dict:
    """Score judged paths read back from disk (merged shards, a reused ensemble), logged as
    any evaluation is."""
    from md import evaluate as stage

    inf = cfg.inference
    with evaluation_run(cfg, log_dir) as (wb, _, log_scalars):
        metrics = stage.score(problems, paths, n=inf.paths, temperature=inf.temperature,
                              out_dir=out_dir, vote_paths=inf.vote_paths, students=students,
                              draws=inf.curves.draws, ci=inf.curves.ci, stop=_stop_rule(cfg),
                              round_size=inf.adaptive.round_size, seed=cfg.seed, wandb_run=wb,
                              info=info)
        log_scalars(metrics)
    return metrics


def evaluate_few_shot(cfg: DictConfig, out_dir: Path | str) -> dict:
    """Evaluate `cfg.teacher` few-shot on the test problems: the teacher and base-model rows.

    Its completions go through the shared teacher cache, so a rerun (or a larger
    inference.paths) pays only for samples not asked before.
    """
    from md import evaluate as stage
    from md.evaluation.few_shot import teacher_paths

    inf = cfg.inference
    stop = _stop_rule(cfg)
    teacher = instantiate(cfg.teacher, _convert_="all")
    problems = test_problems(cfg)
    with evaluation_run(cfg, out_dir) as (wb, sb, log_scalars):
        paths = teacher_paths(problems, teacher, n=inf.paths, sandbox=sb,
                              cache_path=cfg.extract.cache_path,
                              budget_usd=cfg.teacher.get("budget_usd"),
                              progress=cfg.extract.progress)
        metrics = stage.score(
            problems, paths, n=inf.paths, temperature=float(teacher.params.get("temperature", 0)),
            out_dir=out_dir, vote_paths=inf.vote_paths, students="few-shot",
            draws=inf.curves.draws, ci=inf.curves.ci, stop=stop,
            round_size=inf.adaptive.round_size, seed=cfg.seed, wandb_run=wb,
            info={"few_shot_model": teacher.model})
        log_scalars(metrics)
    return metrics


def _finetune_of(student_dir: str | Path) -> str:
    from md.infer import read_manifest

    default = "lora" if (Path(student_dir) / "adapter_config.json").exists() else "full"
    return str(read_manifest(student_dir).get("finetune", default))
