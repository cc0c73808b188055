"""`python -m md.execute`: judge teacher thoughts (md.stages.execute).

    python -m md.execute                                   # the pipeline's own thoughts
    python -m md.execute thoughts=thoughts.jsonl judged=judged.jsonl data=svamp
"""

from md import pipeline
from md.config import groups, wiring
from md.config.builders import required, train_problems
from md.config.cli import stage_main
from md.config.preflight import preflight
from md.pipeline.artifacts import check_beside
from md.stages import execute


@stage_main("execute")
def main(cfg) -> None:
    """Judge `thoughts` into `judged`; with neither given, the pipeline's own artifacts."""
    if cfg.get("thoughts") is None and cfg.get("judged") is None:
        plan = wiring.plan(cfg)
        preflight(cfg, plan)
        print(f"judged thoughts: {pipeline.judged(plan)}")
        return
    thoughts = required(cfg, "thoughts", "a Thought JSONL written by md.extract")
    judged = required(cfg, "judged", "where to write the JudgedThought JSONL")
    check_beside(thoughts)  # a sealed artifact's file, cut or edited since: refused
    execute.print_summary(execute.run(thoughts, judged, train_problems(cfg),
                                      groups.sandbox(cfg)))
    print(f"wrote {judged}")


if __name__ == "__main__":
    main()
