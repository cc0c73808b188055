"""Training throughput: md.train's Lightning loop vs a plain PyTorch loop over the same batches,
and, on a real student, md.train's fp32 path before the speed-ups vs the path it takes now.

    python -m md.bench.train                       # tiny-llama, CPU, 60 timed steps, 2 rounds
    python -m md.bench.train --steps 200 --batch-size 16 --device cuda
    python -m md.bench.train --student smollm2-135m   # fp32 (before) vs new, last line new/fp32 = R x

Real student (`--student smollm2-135m`, or any conf/student/*.yaml with a pretrained base):
three runs of md.stages.train on the same batches, each a fresh student, timed the same way:
  fp32        the path before: every position projected to the vocabulary, lora_dropout 0.05,
              fp32 (trainer.precision=32-true);
  +labelled   train.labelled_logits=true (the same loss, md.training.loss.target_positions);
  new         the student as conf/student/<name>.yaml has it now (SmolLM2: lora_dropout 0)
              and precision=auto (bf16-mixed where the CPU computes bf16, md.models.hardware).
The last line is `new/fp32 = R x (A vs B tokens/s)`.

Both loops train the same freshly built student (conf/student/tiny-llama.yaml, same seed) on the
same length-grouped batches (one sampler, same seed), with AdamW, the same LR schedule and
gradient clipping. Each step is timed end to end (from the previous step's end: data, collate,
forward, backward, optimizer, hooks, logging), after `warmup` steps; model building and Trainer
setup are excluded from both. Rounds alternate plain / Lightning, and each step keeps its
fastest round (as timeit does), so load from other processes on a shared machine drops out.
Tokens/s counts real (unpadded) tokens. Lightning overhead = 1 - lightning / plain (target <= 10%).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import lightning as L
import torch

from md.mixing.examples import demo_examples
from md.models import build_student
from md.settings import TrainSettings
from md.stages.train import run
from md.training.batching import LengthGroupedSampler, collate, encode, lengths
from md.training.loss import md_loss
from md.training.module import lr_factor

SETTINGS = dict(lr=1e-3, warmup_steps=10, schedule="cosine", seed=0)


def make_student(workdir: Path, examples, device: str):
    from md.bench.engines import student_spec

    cfg = student_spec("tiny-llama")
    cfg["seed"] = 0
    texts = [e.input for e in examples] + [e.target for e in examples]
    return build_student(**cfg, tokenizer_texts=texts, workdir=str(workdir))


def plain_loop(student, examples, steps: int, batch_size: int, device: str):
    """(tokens, seconds) per step of a hand-written loop over md.train's batches."""
    items, _ = encode(examples, [e.weight for e in examples], student.tokenizer, False, 512)
    sampler = LengthGroupedSampler(lengths(items, False), batch_size, seed=SETTINGS["seed"])
    model = student.model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=SETTINGS["lr"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, SETTINGS["warmup_steps"], steps, SETTINGS["schedule"]))
    tokens, ends = [], [time.perf_counter()]
    for _, idx in zip(range(steps), sampler, strict=False):
        batch = collate([items[i] for i in idx], student.tokenizer.pad_token_id, False)
        tokens.append(batch["n_tokens"])
        ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits  # (B, T, V)
        loss = md_loss(logits, batch["labels"].to(device), batch["weights"].to(device),
                       batch["methods"].to(device), shift=True).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        _sync(device)
        ends.append(time.perf_counter())
    return tokens, [b - a for a, b in zip(ends, ends[1:], strict=False)]


class StepTimer(L.Callback):
    """Tokens and end-to-end seconds of every Trainer step."""

    def __init__(self):
        self.tokens, self.ends = [], []

    def on_train_start(self, trainer, module):
        self.ends.append(time.perf_counter())

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        _sync(module.device)
        self.tokens.append(batch["n_tokens"])
        self.ends.append(time.perf_counter())


def lightning_loop(student, examples, steps, batch_size, device, out_dir):
    """(tokens, seconds) per step of md.stages.train.run on the same batches."""
    meter = StepTimer()
    trainer = {"max_steps": steps, "log_every_n_steps": 10,
               "accelerator": "gpu" if device == "cuda" else "cpu"}
    settings = TrainSettings(trainer=trainer, batch_size=batch_size, ckpt_every=10 * steps,
                             **SETTINGS)
    run(examples, student, settings, out_dir=out_dir, val_examples=[], callbacks=[meter])
    return meter.tokens, [b - a for a, b in zip(meter.ends, meter.ends[1:], strict=False)]


def tokens_per_s(rounds, warmup: int) -> float:
    """Real tokens / s over the timed steps, each step at its fastest round."""
    tokens = rounds[0][0][warmup:]
    assert all(r[0][warmup:] == tokens for r in rounds), "loops saw different batches"
    fastest = [min(r[1][i] for r in rounds) for i in range(warmup, len(rounds[0][1]))]
    return sum(tokens) / sum(fastest)


def _sync(device) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


# md.train's fp32 path before labelled logits and dropout-free LoRA on CPU students
BEFORE = {"labelled_logits": False, "lora_dropout": 0.05, "precision": "32-true"}


def real_student_variants(spec: dict) -> list[tuple[str, dict, dict]]:
    """(name, student spec, train settings) of the fp32 path before, one speed-up, and now."""
    before = {**spec, "lora_dropout": BEFORE["lora_dropout"]}
    return [("fp32", before, {"labelled_logits": False, "precision": BEFORE["precision"]}),
            ("+labelled", before, {"labelled_logits": True, "precision": BEFORE["precision"]}),
            ("new", spec, {"labelled_logits": True, "precision": "auto"})]


def real_student(a) -> None:
    """md.train's training path on a real pretrained student, before vs now, on the same batches."""
    from md.bench.engines import student_spec
    from md.models.hardware import auto_precision, device_name

    accelerator = "gpu" if a.device == "cuda" else "cpu"
    examples = demo_examples(n_questions=200, seed=0)
    runs: dict[str, list] = {}
    for r in range(a.rounds):
        for name, spec, train in real_student_variants(student_spec(a.student)):
            student = build_student(**spec, tokenizer_texts=None,
                                    workdir=str(Path(a.workdir) / "student"))
            meter = StepTimer()
            settings = TrainSettings(
                trainer={"max_steps": a.steps, "accelerator": accelerator, "log_every_n_steps": 10,
                         "precision": train["precision"], "enable_progress_bar": False},
                batch_size=a.batch_size, ckpt_every=10 * a.steps, lr=student.learning_rate,
                warmup_steps=min(10, a.steps), labelled_logits=train["labelled_logits"])
            run(examples, student, settings, out_dir=Path(a.workdir) / f"{name}{r}",
                val_examples=[], callbacks=[meter])
            steps = [b - t for t, b in zip(meter.ends, meter.ends[1:], strict=False)]
            runs.setdefault(name, []).append((meter.tokens, steps))
            print(f"round {r} {name}: {round(sum(meter.tokens[a.warmup:]) / sum(steps[a.warmup:]))}"
                  " tokens/s", flush=True)
    tps = {name: tokens_per_s(rounds, a.warmup) for name, rounds in runs.items()}
    spec = student_spec(a.student)
    print(json.dumps({
        "student": a.student, "device": device_name(accelerator), "batch_size": a.batch_size,
        "steps_timed": a.steps - a.warmup, "rounds": a.rounds,
        "tokens_per_step": round(sum(runs["new"][0][0][a.warmup:]) / (a.steps - a.warmup)),
        "tok_s": {name: round(v, 1) for name, v in tps.items()},
        "new": {"precision": auto_precision("auto", accelerator), "labelled_logits": True,
                "lora_dropout": spec.get("lora_dropout")},
        "fp32": BEFORE}, indent=1))
    print(f"new/fp32 = {tps['new'] / tps['fp32']:.2f} x "
          f"({tps['new']:.0f} vs {tps['fp32']:.0f} tokens/s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--student", default="tiny-llama",
                   help="tiny-llama: Lightning vs a plain loop; a real student: before vs now")
    p.add_argument("--steps", type=int, default=None, help="default 80 (tiny), 25 (real)")
    p.add_argument("--warmup", type=int, default=None, help="default 20 (tiny), 5 (real)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--rounds", type=int, default=None, help="default 3 (tiny), 1 (real)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--workdir", default="runs/bench-train")
    a = p.parse_args()
    tiny = a.student == "tiny-llama"
    for key, small, real in (("steps", 80, 25), ("warmup", 20, 5), ("rounds", 3, 1)):
        if getattr(a, key) is None:
            setattr(a, key, small if tiny else real)
    if not tiny:
        real_student(a)
        return
    work = Path(a.workdir)
    examples = demo_examples(n_questions=200, seed=0)
    plain, lit = [], []
    for r in range(a.rounds):
        plain.append(plain_loop(make_student(work / "student", examples, a.device), examples,
                                a.steps, a.batch_size, a.device))
        lit.append(lightning_loop(make_student(work / "student", examples, a.device), examples,
                                  a.steps, a.batch_size, a.device, work / f"lit{r}"))
    assert lit[0][0] == plain[0][0], "Lightning and the plain loop saw different batches"
    plain_tps, lit_tps = tokens_per_s(plain, a.warmup), tokens_per_s(lit, a.warmup)
    per_round = {name: [round(sum(t[a.warmup:]) / sum(s[a.warmup:])) for t, s in rounds]
                 for name, rounds in (("plain", plain), ("lightning", lit))}
    report = {"device": a.device, "steps_timed": a.steps - a.warmup, "batch_size": a.batch_size,
              "rounds": a.rounds, "plain_tok_s": round(plain_tps), "lightning_tok_s": round(lit_tps),
              "per_round_tok_s": per_round,
              "lightning_overhead_pct": round(100 * (1 - lit_tps / plain_tps), 1)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
