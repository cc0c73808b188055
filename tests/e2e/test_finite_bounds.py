"""Every number a user gives is finite and bounded, refused in one line before any work.

NaN compares false with every bound, so before this check `teacher.budget_usd=nan` capped
nothing and `execute.timeout_s=nan` judged every program an error; a huge `teacher.n` made a dry
run (nothing sent) grow without limit. Each case runs the real entry point.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_run import md_here, one_error_line

from md.errors import MDError
from md.settings import SandboxSettings, TrainSettings


@pytest.mark.parametrize(("args", "needle"), [
    (["teacher=openai", "data=gsm8k", "teacher.budget_usd=nan"], "teacher.budget_usd=nan"),
    (["execute.timeout_s=nan"], "execute.timeout_s=nan"),
    (["execute.timeout_s=inf"], "execute.timeout_s=inf"),
    (["loss=fixed", "loss.lambda=nan"], "loss.lambda=nan"),
    (["train.lr=-inf"], "train.lr=-inf"),
    (["teacher=openai", "data=gsm8k", "teacher.timeout_s=nan"], "teacher.timeout_s=nan"),
    (["seed=-1"], "seed=-1: must be an integer in [0, 4,294,967,295]"),
    (["seed=1180591620717411303424"], "seed=1180591620717411303424: must be an integer in [0,"),
    (["execute.memory_mb=1000000000000"], "execute.memory_mb=1000000000000: must be an integer"),
    (["teacher.n=1000000000"], "teacher.n=1000000000: must be an integer in [1, 1,000]"),
    (["execute.workers=100000"], "execute.workers=100000: must be an integer in [1, 256]"),
    (["inference.paths=10000000"], "inference.paths=10000000: must be an integer in [1, 1,000]"),
])
def test_non_finite_and_huge_numbers_are_one_line(tmp_path, args, needle):
    line = one_error_line(md_here(tmp_path, *args))
    assert needle in line, line
    if needle.endswith(("nan", "inf")):
        assert "nan and inf are not allowed" in line or "finite" in line, line
    assert not (tmp_path / "art").exists()


def test_settings_refuse_nan_when_built_in_code():
    with pytest.raises(MDError, match="execute.timeout_s=nan"):
        SandboxSettings(timeout_s=float("nan"))
    with pytest.raises(MDError, match="train.seed=-1"):
        TrainSettings(seed=-1)


def test_dry_run_of_a_billion_samples_is_one_quick_line(tmp_path, shared_data):
    """The acceptance command, in a process of its own: one line, costing under 5 s of CPU within
    4 GiB of address space (before: 24 GB and the kernel's OOM kill). CPU time, not wall time:
    the machines that run the suite are shared."""
    import resource

    cmd = [sys.executable, "-m", "md.extract", "data=gsm8k", f"data.path={shared_data / 'gsm8k'}",
           "teacher=openai", "extract.dry_run=true", "teacher.n=1000000000",
           f"paths.artifacts={tmp_path / 'art'}", f"paths.runs={tmp_path / 'runs'}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cap = lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # noqa: E731
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         preexec_fn=cap)  # 4 GiB of address space at most
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 5, (cpu, out.stderr)
    assert out.returncode == 2 and (out.stdout + out.stderr).strip().count("\n") == 0, out.stderr
    assert "teacher.n=1000000000" in out.stderr


def test_dry_run_estimate_does_not_grow_with_n(tmp_path, shared_data):
    """At the ceiling (1,000 samples per method), the dry run counts: it never lists indices."""
    out = md_here(tmp_path, "data=gsm8k", f"data.path={shared_data / 'gsm8k'}", "teacher=openai",
                  "extract.dry_run=true", "teacher.n=1000", "extract.max_problems=50",
                  stage="extract")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "800 requests for 100000 samples" in out.stdout, out.stdout
