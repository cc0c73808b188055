"""`python -m md.train` end to end on CPU, and bad configs as one clear line (no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import md_here

REPO = Path(__file__).resolve().parent.parent


def md_train(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "md.train", f"hydra.run.dir={tmp_path / 'run'}",
           f"paths.artifacts={tmp_path / 'artifacts'}", *overrides]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # the whole pipeline through the real CLI
def test_cli_runs_the_pipeline_trains_saves_and_evaluates(tmp_path):
    out = md_train(tmp_path, "student.finetune=lora", "train.epochs=null",
                   "trainer.max_steps=4", "train.val_every=2", "train.ckpt_every=2",
                   "train.val_fraction=0.2", "trainer.enable_progress_bar=false", "logger=csv",
                   "data.max_train=30", "data.max_test=3", "teacher.n=3", "inference.paths=2",
                   "inference.max_new_tokens=16", "inference.curves.draws=2")
    assert out.returncode == 0, out.stderr[-3000:]
    run = tmp_path / "run"
    manifest = json.loads((run / "student" / "md_student.json").read_text())
    assert manifest["name"] == "tiny-llama" and manifest["finetune"] == "lora"
    assert (run / "student" / "adapter_model.safetensors").exists()
    assert (run / "checkpoints" / "last.ckpt").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["step"] == 4 and "val/loss" in metrics and "train/loss_pot" in metrics
    hparams = (run / "csv" / "version_0" / "hparams.yaml").read_text()
    assert "student.lora_r: 8" in hparams  # the config, logged flat
    assert list((tmp_path / "artifacts" / "mix").glob("*/mixed.jsonl"))  # upstream stages ran
    evaluation = json.loads((run / "eval" / "metrics.json").read_text())
    assert evaluation["questions"] == 3 and "cot_w_pot" in evaluation["accuracy"]
    facts = json.loads((run / "provenance.json").read_text())  # what produced these numbers
    assert facts["git"]["commit"] and isinstance(facts["git"]["dirty"], bool)
    assert facts["md"] and facts["python"] and {"torch", "transformers"} <= set(facts["libraries"])
    assert facts["device"]["kind"] == "cpu" and facts["teacher"]["asked"] == ["simulated"]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["student=no-such-student"], "student=no-such-student: no such option; choose one of"),
        (["train.no_such_knob=1"], "train.no_such_knob is not a config key"),
        (["loss.lambda=0.3"], "loss.lambda is not a config key"),  # only loss=fixed has a λ
        (["trainer=fsdp", "trainer.accelerator=cpu"], "trainer=fsdp runs only on CUDA GPUs"),
        (["+student.lora_rank=4"], "student.lora_rank is not an option"),
        (["loss=fixed", "loss.lambda=2"], "loss.lambda=2: must be a number in [0, 1]"),
        (["+trainer.max_step=5"], "trainer.max_step is not an argument of lightning.Trainer; did you mean max_steps?"),
        (["student=llama2-7b", f"student.pretrained={Path('/no/such/model')}"], "is not a folder"),
    ],
)
def test_user_errors_are_one_error_line(tmp_path, overrides, needle):
    out = md_here(tmp_path, *overrides)
    assert out.returncode == 2, out.stderr[-2000:]
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], out.stderr[-2000:]
    assert "Traceback" not in out.stderr
