"""The one plan line a run prints first: what `auto` became here, and what the run will cost.

    plan: cpu (2 cores, AVX2) · 32-true · student codellama-7b (qlora) · 8000 steps · teacher
    openai gpt-3.5-turbo · sampling hf (auto: vllm not installed) · logger none · teacher about
    $2.31 (at most $10.80)

It is printed before preflight, so a run that is about to fail on a missing key has already said
what it would have done; it reads nothing that costs more than loading the training problems
(which preflight does anyway) and writes nothing.
"""

from __future__ import annotations

from omegaconf import DictConfig

from md import pipeline
from md.config import builders
from md.inference import choose_engine, engine_for_student
from md.models import hardware

LOCAL_TEACHERS = ("simulated", "published", "faithful_cot", "replay", "hf", "vllm")


def line(cfg: DictConfig, plan: pipeline.Plan | None, *, trains: bool = True,
         samples: bool = True, student_dir: str | None = None) -> str:
    """`plan: device · precision · student (fine-tuning) · steps · teacher · sampling · logger · cost`.
    plan None: no upstream stages (no teacher, no cost); student_dir: the saved student that will
    be sampled (md.evaluate), whose own config decides what `inference.engine=auto` becomes."""
    parts = []
    trainer = cfg.get("trainer") or {}
    accelerator = str(trainer.get("accelerator", "auto"))
    parts.append(hardware.device_name(accelerator))
    if trains:
        precision = str(trainer.get("precision", "32-true"))
        resolved = hardware.auto_precision(precision, accelerator)
        parts.append(f"{resolved} (auto)" if precision == "auto" else resolved)
        student = cfg.get("student") or {}
        parts.append(f"student {student.get('name')} ({student.get('finetune', 'full')})")
        epochs = (cfg.get("train") or {}).get("epochs")
        parts.append(f"{epochs:g} epochs" if epochs else f"{trainer.get('max_steps')} steps")
        parts.append(_checkpoints(cfg.get("train") or {}))
    if plan is not None:
        parts.append(f"teacher {_teacher(cfg)}")
    if samples:
        parts.append(f"sampling {_engine(cfg, student_dir)}")
    parts.append(f"logger {builders.choice(cfg, 'logger')}")
    if plan is not None:
        parts.append(f"teacher cost {_cost(cfg, plan)}")
    return "plan: " + " · ".join(parts)


def _checkpoints(train) -> str:
    """How many checkpoints stay on disk (their size is printed once the student is built)."""
    keep = int(train.get("keep_checkpoints", 2))
    return "every checkpoint kept" if keep < 0 else f"checkpoints: newest {keep} + last"


def _teacher(cfg: DictConfig) -> str:
    name = builders.choice(cfg, "teacher")
    model = cfg.teacher.get("model")
    return f"{name} {model}" if model and str(model) != name else name


def _engine(cfg: DictConfig, student_dir: str | None) -> str:
    inf = cfg.inference
    if inf.get("reuse_paths") and inf.get("ensemble"):
        return "none (the students' recorded paths are voted)"
    if student_dir is not None:
        engine, why = engine_for_student(str(inf.engine), student_dir)
        return f"{engine} ({why})" if why else engine
    student = cfg.get("student") or {}
    seq2seq = "t5" in str(student.get("name", "")) or \
        str((student.get("tiny") or {}).get("model_type", "")) == "t5"
    tiny = student.get("tiny")  # built in code: a few million parameters at most
    engine, why = choose_engine(str(inf.engine), seq2seq=seq2seq, params=0 if tiny else None)
    return f"{engine} ({why})" if why else engine


def _cost(cfg: DictConfig, plan: pipeline.Plan) -> str:
    """$0 when the thoughts are cached or the teacher is local; else the dry run's estimate for
    every request (the teacher cache is left to the extraction, which names a damaged one and
    asks only what it lacks: the dry run, extract.dry_run=true, counts what it holds)."""
    if pipeline.first_missing_stage(plan) not in ("extract",):
        return "$0 (thoughts cached)"
    if builders.choice(cfg, "teacher") in LOCAL_TEACHERS or \
            not str(cfg.teacher.get("_target_", "")).endswith("build_openai_teacher"):
        return "$0 (local teacher)"
    from md.teacher import plan as planning
    from md.teacher.cache import Cache

    teacher = plan.teacher_builder()
    cache = Cache(":memory:")
    try:
        prompts = planning.prompts_for(plan.train_problems(), teacher)
        est = planning.estimate_unplanned(prompts, teacher, cache, int(teacher.n))
    finally:
        cache.close()
    return f"about ${est.usd:.2f} (at most ${est.usd_max:.2f}) before the cache"
