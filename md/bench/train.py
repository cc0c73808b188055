"""Training throughput: md.train's Lightning loop vs a plain PyTorch loop over the same batches.

    python -m md.bench.train                       # tiny-llama, CPU, 60 timed steps, 2 rounds
    python -m md.bench.train --steps 200 --batch-size 16 --device cuda

Both loops train the same freshly built student (md/conf/student/tiny-llama.yaml, same seed) on the
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
import yaml

from md.bench.examples import demo_examples
from md.config.settings import TrainSettings
from md.models import build_student
from md.stages.train import run
from md.training.batching import LengthGroupedSampler, collate, encode, lengths
from md.training.loss import md_loss
from md.training.module import lr_factor

CONF = Path(__file__).resolve().parents[1] / "conf" / "student" / "tiny-llama.yaml"
SETTINGS = dict(lr=1e-3, warmup_steps=10, schedule="cosine", seed=0)


def make_student(workdir: Path, examples, device: str):
    cfg = yaml.safe_load(CONF.read_text())
    cfg.pop("_target_")
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--workdir", default="runs/bench-train")
    a = p.parse_args()
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
