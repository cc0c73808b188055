"""`python -m md.mix`: vote, type, weigh and balance judged thoughts (md.stages.mix).

    python -m md.mix                                       # the pipeline's own judged thoughts
    python -m md.mix judged=judged.jsonl out=artifacts/mix mix=md    # or cot | pot | label
"""

from pathlib import Path

from md import pipeline
from md.config import wiring
from md.config.builders import required, train_problems, wandb_run
from md.config.cli import stage_main
from md.config.preflight import preflight
from md.mixing import stats
from md.pipeline.artifacts import check_beside
from md.stages import mix


@stage_main("mix")
def main(cfg) -> None:
    """Mix `judged` into the folder `out`; with neither given, the pipeline's own artifacts."""
    plan = wiring.plan(cfg)
    own = cfg.get("judged") is None and cfg.get("out") is None
    if own:
        preflight(cfg, plan)
    out = (str(pipeline.mix_artifact(plan).dir) if own
           else required(cfg, "out", "the folder to write mixed.jsonl and the stats to"))
    if cfg.get("judged") is not None:
        check_beside(cfg.judged)  # a sealed artifact's file, cut or edited since: refused
    with wandb_run(cfg, out, "mix", name=f"mix-{plan.mix.variant}") as wb:
        if own:
            print(f"mixed training set: {pipeline.mixed(plan, wb)}")
            return
        judged = required(cfg, "judged", "a JudgedThought JSONL written by md.execute")
        result = mix.run(judged, out, train_problems(cfg), plan.mix, seed=plan.seed, wandb_run=wb)
    print(stats.table(result))
    print(f"wrote {Path(out) / mix.MIXED}, {mix.STATS_JSON}, {mix.STATS_PNG}")


if __name__ == "__main__":
    main()
