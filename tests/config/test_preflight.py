"""The command users were promised, and every precondition checked before anything is spent.

Each case runs the real entry point (`python -m md.train`, `md.extract`, `md.evaluate`) in a
subprocess and asserts: exit status 2, exactly one `error:` line naming the problem and its fix,
no traceback, and that no upstream stage ran (the artifacts folder was never created).
"""

from __future__ import annotations

import socket

import pytest
import yaml
from cli_run import md_here, one_error_line

STUDENTS = ["llama2", "codellama", "mistral", "t5", "gpt2"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the acceptance commands -----------------------------------------------------------------

def test_paper_command_without_a_key_is_one_line(tmp_path, shared_data):
    """Before any request or training step, and nothing written (a retry storm against the real
    API would take minutes instead)."""
    out = md_here(tmp_path, "student=codellama", "data=gsm8k", f"data.path={shared_data / 'gsm8k'}")
    line = one_error_line(out)
    assert "OPENAI_API_KEY" in line and "teacher=openai_compatible" in line and "teacher=replay" in line
    assert not (tmp_path / "art").exists()  # no teacher cache, no artifact folder


def test_with_a_key_and_no_network_one_line_about_the_api(tmp_path, shared_data):
    # A proxy nobody listens on is what "no network" looks like to every HTTP client here.
    proxy = f"http://127.0.0.1:{free_port()}"
    out = md_here(tmp_path, "student=codellama", "data=gsm8k", f"data.path={shared_data / 'gsm8k'}",
             env={"OPENAI_API_KEY": "sk-test", "HTTPS_PROXY": proxy, "https_proxy": proxy})
    line = one_error_line(out)
    assert "https://api.openai.com/v1 is not reachable" in line
    assert not (tmp_path / "art").exists()


@pytest.mark.parametrize("student", STUDENTS)
def test_student_families_compose_for_the_paper_setting(tmp_path, student):
    out = md_here(tmp_path, "--cfg", "job", f"student={student}", "data=gsm8k")
    assert out.returncode == 0, out.stderr[-2000:]
    cfg = yaml.safe_load(out.stdout)
    teacher = cfg["teacher"]
    assert teacher["_target_"].endswith("build_openai_teacher") and teacher["model"] == "gpt-3.5-turbo"
    assert teacher["temperature"] == 0.7 and teacher["n"] == 20
    assert cfg["student"]["name"].startswith(student)


def test_simulated_teacher_is_the_default_only_on_synthetic_data(tmp_path):
    synthetic = md_here(tmp_path, "--cfg", "job")
    assert synthetic.returncode == 0 and "build_simulated_teacher" in synthetic.stdout
    line = one_error_line(md_here(tmp_path, "data=svamp", "teacher=simulated"))
    assert line.startswith("error: teacher=simulated renders thoughts only for data=synthetic")
    assert "teacher=openai" in line and "replay" in line


# --- compose-time checks: single run, --cfg job and -m alike ---------------------------------

@pytest.mark.parametrize(("args", "needle"), [
    (["student=codelama"], "student=codelama: no such option; did you mean codellama?"),
    (["student.lora_r=abc"], "student.lora_r='abc': must be an integer in [1, 65,536]"),
    (["train.max_steps=abc"], "train.max_steps is not a config key; did you mean trainer.max_steps?"),
    (["trainer.max_steps=abc"], "trainer.max_steps='abc': must be an integer in [1, 100,000,000]"),
    (["inference.paths=-1"], "inference.paths=-1: must be an integer in [1, 1,000]"),
    (["loss=fixed", "loss.lambda=2"], "loss.lambda=2: must be a number in [0, 1]"),
    (["execute.timeout_s=0"], "execute.timeout_s=0: must be a number in (0, 3,600]"),
    (["teacher=replay"], "teacher.path is not set: teacher=replay needs it"),
    (["logger=wandb", "logger.mode=onlin"], "logger.mode='onlin': must be one of offline, online"),
    (["--cfg", "job", "inference.paths=-1"], "inference.paths=-1: must be an integer in [1, 1,000]"),
    (["-m", "loss=fixed", "loss.lambda=0.5,2"], "loss.lambda=2: must be a number in [0, 1]"),
    (["-m", "student=tiny-llama,codelama"], "student=codelama: no such option; did you mean codellama?"),
    (["-m", "--cfg", "job", "loss=fixed"], "only one of --run, -m/--multirun, --cfg"),
    # the red-team list: refused before any work, each with the right key or choice
    (["trainer.precision=garbage"], "trainer.precision='garbage': must be one of auto, 16-true"),
    (["student.finetune=bogus"], "student.finetune='bogus': must be one of full, lora, qlora"),
    (["inference.shards=2", "inference.shard=3"], "inference.shard=3: must be in 0..1"),
    (["inference.vote_paths=0"], "inference.vote_paths=0: must be an integer in [1, 1,000]"),
    (["teacher.cot_slip=2"], "teacher.cot_slip=2: must be a number in [0, 1]"),
    (["train.keep_checkpoints=0"], "train.keep_checkpoints=0: must be -1 (keep all) or k >= 1"),
    (["teacher.temperature=5"], "teacher.temperature is not a config key: the chosen teacher has "
                                "no temperature (its keys: seed, n, cot_slip"),
    (["teacher=openai", "teacher.mode=foo"], "teacher.mode='foo': must be one of online, batch"),
    (["train.ckpt_path=/no/such.ckpt"], "train.ckpt_path=/no/such.ckpt: no such checkpoint file"),
    (["train.ckpt_path=/etc/hostname"], "train.ckpt_path=/etc/hostname is not a checkpoint"),
    (["inference.vllm.max_lora_rank=48"], "inference.vllm.max_lora_rank=48: must be one of 1, 8, "
                                          "16, 32, 64, 128, 256, 320, 512"),
])
def test_bad_values_fail_at_composition(tmp_path, args, needle):
    line = one_error_line(md_here(tmp_path, *args))
    assert needle in line, line
    assert not (tmp_path / "art").exists() and not (tmp_path / "runs").exists()  # Hydra never started


# --- preflight in order: data, key, server, weights, 4-bit ------------------------------------

def test_missing_data_files_name_data_path(tmp_path):
    line = one_error_line(md_here(tmp_path, "data=gsm8k", f"data.path={tmp_path / 'nowhere'}"))
    assert "expected train.jsonl, test.jsonl in" in line and "data.path=" in line
    assert not (tmp_path / "art").exists()
    (tmp_path / "d" / "train.jsonl").mkdir(parents=True)  # a folder where a file should be
    (tmp_path / "d" / "test.jsonl").write_text("")
    line = one_error_line(md_here(tmp_path, "data=gsm8k", f"data.path={tmp_path / 'd'}"))
    assert f"{tmp_path / 'd' / 'train.jsonl'} is a folder, not a file" in line
    assert not (tmp_path / "art").exists()


def test_unreachable_compatible_server_is_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = one_error_line(md_here(tmp_path, "teacher=openai_compatible", f"teacher.base_url={url}",
                             stage="extract"))
    assert f"teacher.base_url={url} is not reachable" in line and "start the server" in line
    assert not (tmp_path / "art").exists()


def test_hub_student_without_cache_offline_names_the_id(tmp_path, shared_data):
    thoughts = tmp_path / "thoughts.jsonl"
    thoughts.write_text("")
    line = one_error_line(md_here(tmp_path, "student=codellama", "data=svamp",
                             f"data.path={shared_data / 'svamp'}", "teacher=replay",
                             f"teacher.path={thoughts}"))
    assert "student.pretrained=codellama/CodeLlama-7b-hf" in line
    assert "student.pretrained=/local/folder" in line and "HF_HUB_OFFLINE" in line
    assert not (tmp_path / "art").exists()


def test_4bit_student_on_cpu_warns_and_goes_on(capsys):
    import torch

    from md.config.preflight import warn_4bit_on_cpu

    warn_4bit_on_cpu("codellama-7b")
    err = capsys.readouterr().err
    if torch.cuda.is_available():
        assert err == ""
    else:
        assert err.startswith("warning: student=codellama-7b trains in 4-bit (QLoRA) and no CUDA")
        assert err.count("\n") == 1 and "accelerator=auto" in err


def test_a_failed_preflight_loses_nothing_and_the_cache_is_reused(tmp_path):
    first = md_here(tmp_path, "data.n_train=12", "teacher.n=2", stage="extract")
    assert first.returncode == 0, first.stderr[-2000:]
    (thoughts,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    stamp = thoughts.stat().st_mtime_ns
    line = one_error_line(md_here(tmp_path, "data.n_train=12", "teacher.n=2", "student=codellama"))
    assert "student.pretrained=codellama/CodeLlama-7b-hf" in line
    assert thoughts.stat().st_mtime_ns == stamp and not (tmp_path / "art" / "execute").exists()
    again = md_here(tmp_path, "data.n_train=12", "teacher.n=2", stage="mix")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "extract:" not in again.stdout and thoughts.stat().st_mtime_ns == stamp


def test_a_bad_wandb_mode_in_the_environment_fails_before_any_work(tmp_path):
    line = one_error_line(md_here(tmp_path, "logger=wandb", env={"WANDB_MODE": "onlne"}))
    assert line == "error: WANDB_MODE='onlne'; expected one of offline, online, disabled"
    assert not (tmp_path / "art").exists()


def test_sweep_values_are_each_checked_globs_included():
    from md.config.cli import jobs

    listed = list(jobs("train", ["student=glob(tiny-*)", "loss=fixed", "loss.lambda=0.1,0.2",
                                 "seed=0,1"], multirun=True))
    first = ["student=tiny-gpt2", "loss.lambda=0.1", "seed=0"]
    assert listed == [["loss=fixed", *first],
                      ["loss=fixed", "student=tiny-llama", *first[1:]],
                      ["loss=fixed", "student=tiny-t5", *first[1:]],
                      ["loss=fixed", first[0], "loss.lambda=0.2", first[2]],
                      ["loss=fixed", *first[:2], "seed=1"]]


def test_an_empty_artifacts_folder_is_refused(tmp_path):
    from md.config.checks import check_config
    from md.errors import MDError
    from tests.conftest import compose_config

    with pytest.raises(MDError, match="paths.artifacts is empty: set paths.artifacts=FOLDER"):
        check_config(compose_config("train", "paths.artifacts="), {}, None)


def test_a_quantised_vllm_base_the_installed_vllm_lacks_is_one_line_before_training(tmp_path):
    """vLLM removed bitsandbytes: asking for it must not cost a whole training run first."""
    pytest.importorskip("vllm.model_executor.layers.quantization")
    line = one_error_line(md_here(tmp_path, "+inference.vllm.quantization=bitsandbytes"))
    assert "inference.vllm.quantization=bitsandbytes: the installed vllm" in line, line
    assert "has no such method (vLLM removed bitsandbytes)" in line, line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.ckpt"))
