"""`python -m md.evaluate`: sample, judge and score a trained student (md.stages.evaluate).

    python -m md.evaluate student_dir=runs/x/student data=svamp inference.paths=20
    python -m md.evaluate inference.ensemble=[runs/cot/student,runs/pot/student]
    python -m md.evaluate few_shot=true teacher=openai          # the teacher row, few-shot
    python -m md.evaluate merge_shards=[DIR_0,DIR_1]            # a sharded evaluation, scored
"""

import sys

from md.config import preflight as pf
from md.config import runplan, wiring
from md.config.builders import teacher
from md.config.cli import stage_main
from md.errors import MDError
from md.pipeline import evaluation
from md.pipeline.job import evaluated
from md.sandbox.preamble import read as read_preamble
from md.stages.evaluate import print_metrics
from md.tracking import provenance


@stage_main("evaluate")
def main(cfg) -> None:
    """Evaluate a trained student (or an ensemble of two: md.pipeline's last stage, given its
    students), or score merged shards, or evaluate the teacher few-shot, on the test split."""
    if not (cfg.get("merge_shards") or cfg.get("few_shot")):  # the pipeline's own end
        students = _students(cfg.inference.ensemble, cfg.student_dir)
        pf.preflight(cfg, None, upstream=False, test=True, students=students)
        print(runplan.line(cfg, None, trains=False, student_dir=str(students[0])), file=sys.stderr)
        evaluated(wiring.evaluation_job(cfg, students))
        return
    pf.preflight(cfg, None, upstream=False, test=True)
    setup = wiring.evaluation(cfg)
    provenance.write(cfg.out_dir)
    if cfg.get("merge_shards"):
        metrics = evaluation.merge_shards(setup, list(cfg.merge_shards), cfg.out_dir)
    else:
        pf.teacher(cfg)
        metrics = evaluation.evaluate_few_shot(
            setup, teacher(cfg), cfg.out_dir, cache_path=cfg.extract.cache_path,
            budget_usd=cfg.teacher.get("budget_usd"), progress=cfg.extract.progress,
            preamble=read_preamble(cfg.teacher.get("preamble"), cfg.teacher.get("answer_variable")))
    print_metrics(metrics, cfg.out_dir)


def _students(ensemble, student_dir) -> tuple[str, ...]:
    if ensemble:
        if len(ensemble) != 2:
            raise MDError("inference.ensemble takes two student folders: [COT_STUDENT, POT_STUDENT]")
        return tuple(str(s) for s in ensemble)
    if student_dir is None:
        raise MDError("no student_dir= given: pass student_dir=FOLDER (a trained student), "
                      "or run python -m md.train, which evaluates at the end")
    return (str(student_dir),)


if __name__ == "__main__":
    main()
