"""`python -m md.train`: the pipeline's mixed training set, a student trained on it, evaluated.

    python -m md.train                                        # tiny student, CPU, offline
    python -m md.train student=codellama-7b trainer=gpu logger=wandb
    python -m md.train -m loss=fixed loss.lambda=0.25,0.5,0.75
    python -m md.train train.ckpt_path=runs/.../checkpoints/last.ckpt   # resume after a kill

Reads top to bottom: settings -> the plan line (what `auto` chose, what the teacher costs) -> checks -> training set (md.pipeline) -> student -> fit
(md.stages.train) -> evaluation of the saved student (md.pipeline.evaluation), in the run folder.
The job is one experiment-logger run: training curves, the mix statistics, the teacher's bill
and the evaluation's results all land in the same W&B run.
"""

import sys
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig

from md import jsonl, pipeline
from md.config import groups, nextsteps, runplan, wiring
from md.config.builders import logger
from md.config.cli import stage_main
from md.config.preflight import preflight
from md.config.targets import call, flatten
from md.evaluation.outputs import summary_keys
from md.pipeline import evaluation
from md.stages import train
from md.stages.evaluate import print_metrics
from md.tracking import provenance
from md.tracking.inputs import log_inputs, log_summary
from md.tracking.loggers import finish, wandb_run_of
from md.training import runfolder
from md.types import MixedExample


@stage_main("train")
def main(cfg) -> None:
    started = time.perf_counter()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    settings, plan = groups.train(cfg), wiring.plan(cfg)
    given = cfg.train.examples
    print(runplan.line(cfg, plan if given is None else None,
                       samples=bool(cfg.train.evaluate_after)), file=sys.stderr)
    preflight(cfg, plan, upstream=given is None, student=True, test=cfg.train.evaluate_after)
    with runfolder.hold(run_dir):  # one job per run folder; a second waits, then finds it done
        key = wiring.training_key(cfg)
        runfolder.claim(run_dir, key, flatten(wiring.training_settings(cfg)))
        _train_and_finish(cfg, run_dir, settings, plan, given, key, started)


def _train_and_finish(cfg, run_dir: Path, settings, plan, given, key: str, started: float) -> None:
    extracts_here = given is None and pipeline.first_missing_stage(plan) == "extract"
    done = train.finished(run_dir, key)
    if done is not None:
        print(f"train: {done.student_dir} was trained to step {int(done.metrics.get('step', 0))} "
              "with these settings; not training it again (evaluating it: a finished evaluation "
              "samples nothing again)", file=sys.stderr)
    else:
        examples = jsonl.read_all(given or pipeline.mixed(plan), MixedExample)
        texts = [e.input for e in examples] + [e.target for e in examples]
        student = call(cfg.student, tokenizer_texts=texts, workdir=str(run_dir / "student"))
    log, failed = logger(cfg, run_dir, "train"), True
    try:
        result = done or train.run(examples, student, settings, out_dir=run_dir, logger=log,
                                   ckpt_path=cfg.train.ckpt_path, close_logger=False,
                                   lineage=pipeline.lineage(plan) if given is None else (),
                                   preamble=pipeline.preamble(plan) if given is None else None)
        if result.rank == 0:  # only rank 0 evaluates and reports, once
            if done is None:
                train.mark_finished(result, key)
            _finish_job(cfg, plan, run_dir, result, log, extracts_here, upstream=given is None)
            print(nextsteps.block(cfg, run_dir, time.perf_counter() - started,
                                  evaluated=bool(cfg.train.evaluate_after)))
        failed = False
    finally:
        finish(log, failed=failed)


def _finish_job(cfg, plan, run_dir: Path, result, log, extracts_here: bool, upstream: bool) -> None:
    """Rank 0, after training: provenance, what the job's data cost and held, the evaluation."""
    if upstream:
        log_inputs(wandb_run_of(log), mix=pipeline.mix_stats(plan),
                   spend=pipeline.teacher_spend(plan), paid_here=extracts_here)
    provenance.write(run_dir, teacher=pipeline.teacher_of(plan) if upstream else None)
    if cfg.train.evaluate_after:
        setup = wiring.evaluation(cfg, trained_here=True)
        metrics = evaluation.finished(setup, (result.student_dir,), run_dir / "eval")
        if metrics is None:
            metrics = evaluation.evaluate(setup, (result.student_dir,), run_dir / "eval", logger=log)
        else:
            print(f"evaluate: {run_dir / 'eval'} is finished for this student and these "
                  "settings; not sampling it again", file=sys.stderr)
            log_summary(wandb_run_of(log), summary_keys(metrics, setup.dataset))
        print_metrics(metrics, run_dir / "eval")
    shown = {k: round(v, 4) for k, v in sorted(result.metrics.items())}
    print(f"student saved to {result.student_dir}\ntraining metrics: {shown}")


if __name__ == "__main__":
    main()
