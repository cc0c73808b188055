"""`python -m md.extract`: the teacher's thoughts for the training problems (md.stages.extract).

    python -m md.extract data=synthetic teacher=simulated              # offline, a simulation
    python -m md.extract data=gsm8k teacher=openai extract.dry_run=true
    python -m md.extract data=gsm8k teacher=openai teacher.budget_usd=5 logger=wandb

The thoughts land in a hash-addressed folder under paths.artifacts (printed at the end), where
md.execute, md.mix and md.train find them. With logger=wandb the extraction is a W&B run of its
own: the teacher's bill (`teacher/*`) and the thoughts as an artifact.
"""

import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig

from md import pipeline
from md.config import runplan, wiring
from md.config.builders import wandb_run
from md.config.cli import stage_main
from md.config.preflight import preflight
from md.tracking.inputs import log_inputs


@stage_main("extract")
def main(cfg) -> None:
    plan = wiring.plan(cfg)
    print(runplan.line(cfg, plan, trains=False, samples=False), file=sys.stderr)
    preflight(cfg, plan)
    if plan.extract.dry_run:
        pipeline.thoughts(plan, dry_run=True)
        return
    art = pipeline.extract_artifact(plan)
    extracts_here = not art.has(pipeline.THOUGHTS)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    with wandb_run(cfg, run_dir, "extract", name=None) as wb:
        thoughts = pipeline.thoughts(plan)
        if wb is not None:
            from md.tracking.lineage import log_lineage, thoughts_files

            log_inputs(wb, spend=pipeline.teacher_spend(plan), paid_here=extracts_here)
            log_lineage(wb, [], [thoughts_files(thoughts, art.key)])


if __name__ == "__main__":
    main()
