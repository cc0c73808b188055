"""`python -m md.extract`: the teacher's thoughts for the training problems (md.stages.extract).

    python -m md.extract data=synthetic teacher=simulated              # offline, a simulation
    python -m md.extract data=gsm8k teacher=openai extract.dry_run=true
    python -m md.extract data=gsm8k teacher=openai teacher.budget_usd=5

The thoughts land in a hash-addressed folder under paths.artifacts (printed at the end), where
md.execute, md.mix and md.train find them.
"""

from md import pipeline
from md.config import wiring
from md.config.cli import stage_main
from md.config.preflight import preflight


@stage_main("extract")
def main(cfg) -> None:
    plan = wiring.plan(cfg)
    preflight(cfg, plan)
    pipeline.thoughts(plan, dry_run=plan.extract.dry_run)


if __name__ == "__main__":
    main()
