"""Kill a run after step k, resume from its checkpoint: steps k+1..k+m match an uninterrupted run."""

from __future__ import annotations

import csv

import lightning as L
import pytest
import torch
from train_settings import run

from md.mixing.examples import demo_examples
from md.models import build_student
from md.tracking.loggers import csv_logger

EXAMPLES = demo_examples(n_questions=12, seed=3)
TEXTS = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}
K, TOTAL = 3, 6


class Killed(RuntimeError):
    pass


class KillAfter(L.Callback):
    """Stand-in for SIGKILL: abort before step k+1 starts (step k's checkpoint is on disk)."""

    def __init__(self, k: int):
        self.k = k

    def on_train_batch_start(self, trainer, *args):
        if trainer.global_step == self.k:
            raise Killed(f"killed after step {self.k}")


def student(workdir):
    # lora_dropout > 0, so a resumed run only matches if its dropout masks match too
    return build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4, lora_dropout=0.3,
                         tokenizer_texts=TEXTS, workdir=str(workdir))


def train(tmp, out, callbacks=(), ckpt_path=None):
    s = student(tmp / "student")  # the same base folder, reused: bit-identical base weights
    # accumulation 2: the resumed sampler must restart at micro-batch global_step * 2
    result = run(EXAMPLES, s, out_dir=tmp / out, max_steps=TOTAL, batch_size=3,
                 accumulate_grad_batches=2, lr=5e-3, warmup_steps=2, schedule="cosine",
                 val_fraction=0.2, val_every=2, ckpt_every=1, log_every_n_steps=1,
                 logger=csv_logger(str(tmp / out)), callbacks=callbacks, ckpt_path=ckpt_path)
    return s, result


def history(folder) -> dict[int, dict[str, float]]:
    """step -> logged train/* values, read back from the CSV logger's metrics.csv."""
    rows: dict[int, dict[str, float]] = {}
    for path in folder.glob("csv/version_*/metrics.csv"):
        with path.open() as f:
            for row in csv.DictReader(f):
                values = {k: float(v) for k, v in row.items() if k.startswith("train/") and v}
                rows.setdefault(int(row["step"]), {}).update(values)
    return rows


def test_resume_matches_uninterrupted_run(tmp_path):
    full_student, full = train(tmp_path, "full")
    with pytest.raises(Killed):
        train(tmp_path, "killed", callbacks=[KillAfter(K)])
    ckpt = tmp_path / "killed" / "checkpoints" / f"step{K:06d}.ckpt"
    assert ckpt.exists()
    resumed_student, resumed = train(tmp_path, "resumed", ckpt_path=str(ckpt))

    assert resumed.metrics["step"] == full.metrics["step"] == TOTAL
    want, got = history(tmp_path / "full"), history(tmp_path / "resumed")
    # Lightning logs step s's values under step index s - 1; resumed steps are K+1..TOTAL
    assert sorted(got) == list(range(K, TOTAL))
    for step in got:
        for key in ("train/loss", "train/lr"):
            assert got[step][key] == pytest.approx(want[step][key], rel=1e-5, abs=1e-7), (step, key)
    assert resumed.metrics["val/loss"] == pytest.approx(full.metrics["val/loss"], rel=1e-5)
    a = {n: p for n, p in full_student.model.named_parameters() if p.requires_grad}
    b = dict(resumed_student.model.named_parameters())
    assert all(torch.allclose(a[n], b[n], atol=1e-6) for n in a)

    # adapter checkpoints: trainable weights + optimizer/scheduler/loop state, no frozen base
    last = torch.load(full.checkpoint_dir / "last.ckpt", weights_only=False)
    assert {k.removeprefix("model.") for k in last["state_dict"]} == set(a)
    assert last["global_step"] == TOTAL and last["optimizer_states"] and last["lr_schedulers"]


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    from md.errors import MDError

    with pytest.raises(MDError, match="no such checkpoint"):
        run(EXAMPLES, student(tmp_path / "s"), out_dir=tmp_path, max_steps=1,
            ckpt_path=str(tmp_path / "nope.ckpt"))


@pytest.mark.parametrize("keep, kept", [(2, [5, 6]), (1, [6]), (-1, [1, 2, 3, 4, 5, 6])])
def test_keep_checkpoints_keeps_exactly_the_newest_k(tmp_path, capsys, keep, kept):
    result = run(EXAMPLES, student(tmp_path / "s"), out_dir=tmp_path / "run", max_steps=TOTAL,
                 batch_size=3, ckpt_every=1, keep_checkpoints=keep, logger=None)
    volume = next(ln for ln in capsys.readouterr().err.splitlines() if "checkpoints hold" in ln)
    assert f" {len(kept) + 1} kept (train.keep_checkpoints={keep})" in volume  # + last.ckpt
    steps = sorted(int(p.stem.removeprefix("step")) for p in result.checkpoint_dir.glob("step*.ckpt"))
    assert steps == kept
    assert (result.checkpoint_dir / "last.ckpt").exists()


def test_auto_resumes_a_killed_run_in_its_own_folder_and_starts_fresh_elsewhere(tmp_path, capsys):
    """train.ckpt_path=auto (the YAML default): what a SLURM job requeued after its time limit
    runs, in the same run folder."""
    full_student, full = train(tmp_path, "full")
    with pytest.raises(Killed):
        train(tmp_path, "killed", callbacks=[KillAfter(K)])
    resumed_student, resumed = train(tmp_path, "killed", ckpt_path="auto")
    assert "resuming from" in capsys.readouterr().err
    assert resumed.metrics["step"] == TOTAL
    got = history(tmp_path / "killed")
    assert sorted(got) == list(range(TOTAL))  # steps 1..K from the killed run, K+1.. resumed
    a = {n: p for n, p in full_student.model.named_parameters() if p.requires_grad}
    b = dict(resumed_student.model.named_parameters())
    assert all(torch.allclose(a[n], b[n], atol=1e-6) for n in a)
    _, fresh = train(tmp_path, "fresh", ckpt_path="auto")  # nothing to resume: from step 0
    assert fresh.metrics["step"] == TOTAL and sorted(history(tmp_path / "fresh")) == list(range(TOTAL))
