"""md.teacher.vllm_teacher: the dry run needs the tokenizer only, never the engine."""

from __future__ import annotations

from cli_run import md_here
from tiny_lora import save_tiny_lora


def test_the_vllm_teacher_dry_run_loads_no_engine(tmp_path):
    """teacher=vllm: the dry run renders and counts the requests with the tokenizer alone."""
    student_dir = save_tiny_lora(tmp_path)
    out = md_here(tmp_path, "data=synthetic", "teacher=vllm", f"teacher.model={student_dir}",
                  "teacher.n=4", "extract.max_problems=4", "extract.dry_run=true", stage="extract")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "dry run: nothing sent" in out.stdout and "8 requests for 32 samples" in out.stdout
    assert "teacher cost $0 (local teacher)" in out.stderr
