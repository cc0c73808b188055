"""md.config.runplan: the paper's command composes to auto device, auto engine and 8000 steps,
and its plan line comes before any warning or error."""

from __future__ import annotations

from cli_run import md_here, one_error_line

from md.models import hardware


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
