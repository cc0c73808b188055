"""HF `generate` against vLLM on the same saved student and the same prompts, in one run.

    python -m md.bench.generate --engines hf,vllm --student smollm2-135m
    python -m md.bench.generate --engines hf,vllm --student smollm2-135m --questions 100 --paths 5

An evaluation-sized workload: `questions` synthetic test questions, `paths` sampled CoT and
`paths` sampled PoT paths each (temperature 0.7), at most `new_tokens` new tokens per path. The
student is SmolLM2-135M with a LoRA adapter trained `train_steps` steps (so the adapter is real
and the paths stop at the next question the way a trained student's do). HF samples it as md
evaluates by default (`inference.batch_size` sequences per generate call, adapter applied); vLLM
as `inference.engine=vllm` does (on CPU the adapter merged into a copy of the base first).
Throughput counts the tokens of the returned paths with the student's tokenizer, so both engines
are measured by the same rule; the engine's start-up (and the merge) is timed and printed apart.
The last line is `vllm/hf = R x (A vs B tokens/s)`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

from md import CONFIG_DIR
from md.prompts import student_input

CONF = CONFIG_DIR / "student"


def student_spec(name: str) -> dict:
    """build_student's arguments from conf/student/<name>.yaml (its `student:` block where the
    file also sets a schedule, as the 7B students and tiny-llama do)."""
    spec = yaml.safe_load((CONF / f"{name}.yaml").read_text())
    spec = dict(spec.get("student", spec))
    spec.pop("_target_", None)
    return spec


def trained_student(name: str, workdir: Path, steps: int) -> Path:
    """A saved student of conf/student/<name>.yaml, its adapter trained `steps` steps on the
    demo examples (a minute on a CPU)."""
    from md.mixing.examples import demo_examples
    from md.models import build_student
    from md.settings import TrainSettings
    from md.stages.train import run

    spec = student_spec(name)
    examples = demo_examples(n_questions=16)
    texts = [e.input for e in examples] + [e.target for e in examples]
    student = build_student(**spec, tokenizer_texts=texts, workdir=str(workdir / "student"))
    settings = TrainSettings(trainer={"max_steps": steps, "accelerator": "cpu"}, batch_size=4)
    return run(examples, student, settings, out_dir=workdir).student_dir


def prompts(questions: int) -> list[str]:
    """CoT and PoT prompts of the first `questions` synthetic test questions."""
    from md.data.synthetic import load

    problems = load("test", n_train=10, n_test=questions, seed=0)
    return [student_input(p.question, m) for p in problems for m in ("cot", "pot")]


def measure(engine: str, student_dir: Path, prompt_list: list[str], paths: int, new_tokens: int,
            batch_size: int, vllm: dict | None = None) -> dict:
    """Start the engine, then sample `paths` per prompt; tokens/s of the sampling alone."""
    from transformers import AutoTokenizer

    from md.inference import build_generator

    start = time.perf_counter()
    gen = build_generator(engine, str(student_dir), batch_size=batch_size,
                          max_new_tokens=new_tokens, seed=0, vllm=vllm)
    ready = time.perf_counter()
    texts = gen.sample(prompt_list, paths, 0.7)
    seconds = time.perf_counter() - ready
    tok = AutoTokenizer.from_pretrained(str(student_dir))
    tokens = sum(len(tok(t, add_special_tokens=False).input_ids) for row in texts for t in row)
    return {"engine": engine, "start_s": ready - start, "sample_s": seconds, "paths": len(prompt_list) * paths,
            "tokens": tokens, "tokens_per_s": tokens / seconds, "base": gen.base_weights}


def compare(engines: list[str], student: str, questions: int, paths: int, new_tokens: int,
            batch_size: int, train_steps: int, vllm: dict | None = None) -> list[dict]:
    """vllm: engine settings as `inference.vllm` takes them (e.g. {"enforce_eager": False})."""
    with tempfile.TemporaryDirectory() as tmp:
        student_dir = trained_student(student, Path(tmp), train_steps)
        prompt_list = prompts(questions)
        return [measure(e, student_dir, prompt_list, paths, new_tokens, batch_size, vllm)
                for e in engines]


def last_line(results: list[dict]) -> str:
    """`vllm/hf = R x (A vs B tokens/s)`: the last engine measured against the first."""
    a, b = results[-1], results[0]
    return (f"{a['engine']}/{b['engine']} = {a['tokens_per_s'] / b['tokens_per_s']:.2f} x "
            f"({a['tokens_per_s']:.0f} vs {b['tokens_per_s']:.0f} tokens/s)")
