"""md.inference.vllm_engine without vLLM: the CPU engine's thread binding."""

from __future__ import annotations

import os


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
