"""`python -m md.train`: the pipeline's mixed training set, a student trained on it, evaluated.

    python -m md.train                                        # tiny student, CPU, offline
    python -m md.train student=codellama-7b trainer=gpu logger=wandb
    python -m md.train -m loss=fixed loss.lambda=0.25,0.5,0.75
    python -m md.train train.ckpt_path=runs/.../checkpoints/last.ckpt   # resume after a kill

Reads top to bottom: settings -> checks -> training set (md.pipeline) -> student -> fit
(md.stages.train) -> evaluation of the saved student (md.pipeline_evaluate), in the run folder.
"""

from pathlib import Path

from hydra.core.hydra_config import HydraConfig

from md import fsdp, jsonl, pipeline, pipeline_evaluate, wiring
from md.cli import stage_main
from md.config import call, check_targets
from md.loss import check_settings
from md.stages import train
from md.stages.evaluate import print_metrics
from md.types import MixedExample
from md.wiring.preflight import preflight
from md.wiring.tools import logger


@stage_main("train")
def main(cfg) -> None:
    check_targets(cfg)  # a misspelled builder key fails here, before any stage starts
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    settings, plan = wiring.settings.train(cfg), wiring.plan(cfg)
    check_settings(settings.loss_mode, settings.loss_lambda)
    trainer_args = settings.trainer_args()
    fsdp.check(trainer_args.get("strategy"), trainer_args.get("accelerator"))
    given = cfg.train.examples
    preflight(cfg, plan, upstream=given is None, student=True, test=cfg.train.evaluate_after)
    examples = jsonl.read_all(given or pipeline.mixed(plan), MixedExample)
    texts = [e.input for e in examples] + [e.target for e in examples]
    student = call(cfg.student, tokenizer_texts=texts, workdir=str(run_dir / "student"))
    result = train.run(examples, student, settings, out_dir=run_dir,
                       logger=logger(cfg, run_dir, "train"), ckpt_path=cfg.train.ckpt_path,
                       lineage=pipeline.lineage(plan) if given is None else ())
    if result.rank != 0:  # only rank 0 evaluates and reports, once
        return
    if cfg.train.evaluate_after:
        metrics = pipeline_evaluate.evaluate(wiring.evaluation(cfg), (result.student_dir,),
                                             run_dir / "eval", log_dir=run_dir)
        print_metrics(metrics, run_dir / "eval")
    shown = {k: round(v, 4) for k, v in sorted(result.metrics.items())}
    print(f"student saved to {result.student_dir}\ntraining metrics: {shown}")


if __name__ == "__main__":
    main()
