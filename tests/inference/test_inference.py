"""md.inference: `inference.engine=auto` picks vLLM only where it pays its start."""

from __future__ import annotations

from tiny_lora import save_tiny_lora

from md.inference import choose_engine, engine_for_student
from md.models import hardware


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
