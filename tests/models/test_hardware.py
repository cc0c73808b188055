"""Defaults that follow the hardware: trainer.accelerator/precision=auto, inference.engine=auto,
the 7B students' own schedule, the plan line, and a LoRA student merged for vLLM's CPU build."""

from __future__ import annotations

import os

import pytest
import torch
from cli_run import md_here, one_error_line

from md.inference import choose_engine, engine_for_student
from md.models import hardware
from md.settings import TrainSettings


def test_the_papers_command_composes_auto_device_auto_engine_and_8000_steps(tmp_path):
    out = md_here(tmp_path, "--cfg", "job", "student=codellama", "data=gsm8k")
    assert out.returncode == 0, out.stderr
    for line in ("accelerator: auto", "precision: auto", "max_steps: 8000", "engine: auto",
                 "name: codellama-7b", "finetune: qlora", "keep_checkpoints: 2"):
        assert line in out.stdout, line
    mine = md_here(tmp_path, "--cfg", "job", "student=codellama", "data=gsm8k", "trainer.max_steps=5")
    assert "max_steps: 5" in mine.stdout  # an explicit setting wins over the student's schedule
    tiny = md_here(tmp_path, "--cfg", "job")  # the embedded default: tiny-llama's own schedule
    for line in ("max_steps: 1500", "accelerator: auto", "finetune: full", "batch_size: 16"):
        assert line in tiny.stdout, line


def test_the_papers_command_on_a_cpu_says_its_plan_and_warns_before_the_key_error(tmp_path, shared_data):
    out = md_here(tmp_path, "student=codellama", "data=gsm8k", f"data.path={shared_data / 'gsm8k'}")
    assert "OPENAI_API_KEY" in one_error_line(out)
    lines = out.stderr.splitlines()
    plan = next(i for i, ln in enumerate(lines) if ln.startswith("plan: "))
    warn = next(i for i, ln in enumerate(lines) if ln.startswith("warning: student=codellama-7b trains in 4-bit"))
    error = next(i for i, ln in enumerate(lines) if ln.startswith("error:"))
    assert plan < warn < error
    text = lines[plan]
    expected_precision = "bf16-mixed" if hardware.cpu_bf16() else "32-true"
    for part in ("cpu (", f"{expected_precision} (auto)", "student codellama-7b (qlora)",
                 "8000 steps", "checkpoints: newest 2 + last", "teacher openai gpt-3.5-turbo",
                 "sampling ", "logger none",
                 "teacher cost about $"):
        assert part in text, (part, text)


def test_auto_precision_is_bf16_only_where_the_device_computes_it(monkeypatch):
    assert hardware.auto_precision("32-true") == "32-true"  # explicit settings are kept
    assert hardware.auto_precision("bf16-mixed", "cpu") == "bf16-mixed"
    for flags, expected in ((frozenset({"avx2", "fma"}), "32-true"),
                            (frozenset({"avx2", "avx512f", "avx512_bf16"}), "bf16-mixed"),
                            (frozenset({"avx2", "amx_tile", "amx_bf16"}), "bf16-mixed")):
        monkeypatch.setattr(hardware, "cpu_flags", lambda flags=flags: flags)
        assert hardware.auto_precision("auto", "cpu") == expected, flags
    settings = TrainSettings(trainer={"precision": "auto", "accelerator": "cpu"})
    assert hardware.resolved(settings.trainer_args())["precision"] == "bf16-mixed"  # the last flags set above: AMX
    # reads the real /proc/cpuinfo again
    monkeypatch.undo()
    assert hardware.auto_precision("auto", "cpu") == ("bf16-mixed" if hardware.cpu_bf16() else "32-true")


def test_auto_precision_resolves_before_lightning_sees_it():
    args = TrainSettings(trainer={"precision": "auto", "accelerator": "cpu"}).trainer_args()
    assert args["precision"] == "auto"  # a setting; the machine decides in the caller
    assert hardware.resolved(args)["precision"] in ("32-true", "bf16-mixed")
    with pytest.raises(Exception, match="trainer.precision='fast'"):
        TrainSettings(trainer={"precision": "fast"})


def test_auto_engine_is_vllm_only_for_decoders_big_enough_to_pay_its_start(monkeypatch):
    monkeypatch.setattr(hardware, "vllm_installed", lambda: False)
    assert choose_engine("auto", seq2seq=False) == ("hf", "auto: vllm not installed")
    assert choose_engine("vllm", seq2seq=False) == ("vllm", "")  # explicit wins
    monkeypatch.setattr(hardware, "vllm_installed", lambda: True)
    assert choose_engine("auto", seq2seq=False, params=135_000_000) == ("vllm", "auto")
    assert choose_engine("auto", seq2seq=True)[0] == "hf"
    assert choose_engine("auto", seq2seq=False, params=400_000)[0] == "hf"
    assert choose_engine("hf", seq2seq=False, params=10**9) == ("hf", "")


def test_a_saved_tiny_student_stays_on_hf_under_auto(tmp_path):
    student_dir = save_tiny_lora(tmp_path)
    engine, why = engine_for_student("auto", str(student_dir))
    assert engine == "hf" and why.startswith("auto:")


def save_tiny_lora(tmp_path):
    from md.models import build_student, save_student

    tiny = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
    student = build_student("tiny", tiny=tiny, tokenizer_texts=["Question: 1 2 3", "ans = 3"],
                            vocab_size=300, workdir=str(tmp_path / "w"), lora_r=4, lora_alpha=8,
                            target_modules=["q_proj", "v_proj"])
    with torch.no_grad():  # a non-zero adapter, so merging changes the weights
        for name, p in student.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return save_student(student, tmp_path / "student")


def test_a_lora_student_is_merged_once_into_a_plain_model_with_the_same_outputs(tmp_path, monkeypatch):
    """vLLM's CPU build gets the adapter folded into a copy of the base: the same logits as base +
    adapter, cached by the adapter's bytes (a second call merges nothing)."""
    from transformers import AutoModelForCausalLM

    from md.inference.hf import load_hf
    from md.inference.merged import DONE, merged_student
    from md.models.saved import resolve_student

    monkeypatch.setenv("MD_MODEL_CACHE", str(tmp_path / "cache"))
    student_dir = save_tiny_lora(tmp_path)
    base, adapter = resolve_student(student_dir)
    folder = merged_student(base, adapter)
    assert (folder / DONE).is_file() and not (folder / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    peft_model, tok, _ = load_hf(student_dir, "cpu")
    ids = torch.tensor([tok("Question: 1 2 3").input_ids])
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, peft_model(ids).logits, atol=1e-4, rtol=1e-4)
    stamp = os.stat(folder / "model.safetensors").st_mtime_ns
    assert merged_student(base, adapter) == folder
    assert os.stat(folder / "model.safetensors").st_mtime_ns == stamp  # reused, not merged again


def test_the_cpu_engine_binds_every_core_unless_the_user_chose(monkeypatch):
    from md.inference.vllm_engine import bind_every_core

    monkeypatch.delenv("VLLM_CPU_OMP_THREADS_BIND", raising=False)
    monkeypatch.delenv("VLLM_CPU_NUM_OF_RESERVED_CPU", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 5, 7, 8})
    bind_every_core()
    assert os.environ["VLLM_CPU_OMP_THREADS_BIND"] == "0-2,5,7-8"
    assert os.environ["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "0"
    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", "3")
    bind_every_core()
    assert os.environ["VLLM_CPU_OMP_THREADS_BIND"] == "3"


def test_the_vllm_teacher_dry_run_loads_no_engine(tmp_path):
    """teacher=vllm: the dry run renders and counts the requests with the tokenizer alone."""
    student_dir = save_tiny_lora(tmp_path)
    out = md_here(tmp_path, "data=synthetic", "teacher=vllm", f"teacher.model={student_dir}",
                  "teacher.n=4", "extract.max_problems=4", "extract.dry_run=true", stage="extract")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "dry run: nothing sent" in out.stdout and "8 requests for 32 samples" in out.stdout
    assert "teacher cost $0 (local teacher)" in out.stderr


def test_train_epochs_sets_the_steps_from_the_mix_size():
    from md.settings import TrainSettings

    s = TrainSettings(trainer={"max_steps": 5, "accelerator": "cpu"}, batch_size=8, epochs=2)
    assert s.for_epochs(700).max_steps == 176  # 2 x ceil(700 / 8) batches
    acc = TrainSettings(trainer={"accumulate_grad_batches": 2, "devices": 2}, batch_size=8,
                        epochs=1.5)
    assert acc.for_epochs(700, world=2).max_steps == 33  # ceil(1.5 x 88 / (2 x 2))
    assert acc.for_epochs(700, world=2).epochs is None


def test_all_visible_gpus_count_as_processes_for_epochs(monkeypatch):
    """trainer.devices=-1 (trainer=ddp) is every visible GPU: 4 of them make an epoch 4x fewer
    optimizer steps, as Lightning's sampler splits each step's batches over the ranks."""
    import torch

    from md.models import hardware

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)  # a 4-GPU node, faked
    assert hardware.world_size(-1, 1, "gpu") == 4
    assert hardware.world_size("auto", 2, "gpu") == 8
    assert hardware.world_size([0, 1], 1, "gpu") == hardware.world_size("0,1", 1, "gpu") == 2
    assert hardware.world_size(2, 1, "cpu") == 2 and hardware.world_size(1) == 1


def test_slurm_jobs_quantise_each_rank_onto_its_own_gpu(monkeypatch):
    """Under srun (hydra/launcher=slurm) no LOCAL_RANK is set: SLURM_LOCALID names the GPU."""
    from md.models.hardware import local_rank

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.delenv("SLURM_LOCALID", raising=False)
    assert local_rank() == 0
    monkeypatch.setenv("SLURM_LOCALID", "3")
    assert local_rank() == 3
    monkeypatch.setenv("LOCAL_RANK", "1")  # torchrun / Lightning's launcher win
    assert local_rank() == 1


def test_gpus_before_ampere_are_not_bf16(monkeypatch):
    """V100 (7.0) and T4 (7.5) emulate bf16 (torch still calls it supported) and vLLM refuses it
    below compute capability 8.0: auto precision is fp32 there, and vLLM samples in fp16."""
    import torch

    from md.models import hardware

    monkeypatch.setattr(hardware, "cuda_available", lambda: True)  # a GPU, faked
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    for capability, native in (((7, 0), False), ((7, 5), False), ((8, 0), True), ((9, 0), True)):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, c=capability: c)
        assert hardware.cuda_bf16() is native
        assert hardware.auto_precision("auto", "gpu") == ("bf16-mixed" if native else "32-true")
        assert hardware.sampling_dtype() == ("bfloat16" if native else "float16")


def test_the_first_run_ends_with_where_the_results_are_and_what_next(tmp_path):
    from omegaconf import OmegaConf

    from md.config.nextsteps import block

    simulated = {"_target_": "md.teacher.simulated.build_simulated_teacher"}
    default = OmegaConf.create({"data": {"name": "synthetic"}, "teacher": simulated,
                                "experiment_name": "default"})
    text = block(default, tmp_path / "run", 148.4, evaluated=True)
    assert text.splitlines()[0] == f"done in 2m28s · run folder {tmp_path / 'run'}"
    assert f"results: {tmp_path / 'run' / 'eval' / 'metrics.json'}" in text
    assert "next:" in text and "make demo" in text and "student=smollm2-135m" in text
    real = OmegaConf.create({"data": {"name": "svamp"}, "teacher": simulated,
                             "experiment_name": "default"})
    assert "next:" not in block(real, tmp_path, 10, evaluated=False)  # only after the first run
