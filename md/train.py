"""`python -m md.train`: the pipeline's mixed training set, a student trained on it, evaluated.

    python -m md.train                                        # tiny student, CPU, offline
    python -m md.train student=codellama-7b trainer=gpu logger=wandb
    python -m md.train -m loss=fixed loss.lambda=0.25,0.5,0.75
    python -m md.train train.ckpt_path=runs/.../checkpoints/last.ckpt   # resume after a kill

Reads top to bottom: settings -> the plan line (what `auto` chose, what the teacher costs) ->
checks -> md.pipeline, which makes what is not on record (extract, execute, mix, train,
evaluate) in the run folder -> where the results are. The job is one experiment-logger run.
"""

import sys
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig

from md.config import nextsteps, runplan, wiring
from md.config.cli import stage_main
from md.config.preflight import preflight
from md.pipeline.job import evaluated


@stage_main("train")
def main(cfg) -> None:
    started = time.perf_counter()
    job = wiring.job(cfg, Path(HydraConfig.get().runtime.output_dir))
    upstream, samples = job.training_set is not None, job.evaluation is not None
    print(runplan.line(cfg, job.training_set, samples=samples), file=sys.stderr)
    preflight(cfg, job.training_set, upstream=upstream, student=True, test=samples)
    if evaluated(job) is not None:  # rank 0
        print(nextsteps.block(cfg, job.run_dir, time.perf_counter() - started, evaluated=samples))


if __name__ == "__main__":
    main()
