"""The local teachers: hf (a tiny random GPT-2 built from a config, tokenizer trained in code —
nothing from a hub) with batched generate and caching, and replay from a thoughts file."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from md import jsonl
from md.errors import MDError
from md.settings import ExtractSettings
from md.stages.extract import run
from md.teacher import hf as hf_mod
from md.teacher.hf import build_hf_teacher
from md.teacher.prompts import build_prompt
from md.teacher.replay import build_replay_teacher
from md.types import Problem, Thought

PROBLEMS = [Problem(f"p{i}", "svamp", "train", f"Ann has {i} pens and buys 2. How many?", i + 2.0)
            for i in range(3)]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    corpus = [build_prompt(p.question, "svamp", m) for p in PROBLEMS for m in ("cot", "pot")]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                   unk_token="<unk>")
    torch.manual_seed(0)
    net = GPT2LMHeadModel(GPT2Config(vocab_size=len(fast), n_positions=1024, n_embd=32,
                                     n_layer=2, n_head=2))
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    net.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_hf_teacher_batched_generate_and_cache(tiny_model_dir, tmp_path, monkeypatch):
    t = build_hf_teacher(str(tiny_model_dir), max_tokens=6, n=3, gen_batch=4, device="cpu",
                         stop=["\n\nQuestion:"])
    calls = []
    real = hf_mod.HFTeacher._generate
    monkeypatch.setattr(hf_mod.HFTeacher, "_generate",
                        lambda self, prompts: calls.append(len(prompts)) or real(self, prompts))
    out, cache = tmp_path / "t.jsonl", tmp_path / "c.sqlite"
    s = run(PROBLEMS, t, out, ExtractSettings(cache_path=cache, progress=False))
    assert s.complete and s.thoughts == 3 * 2 * 3
    assert max(calls) == 4 and sum(calls) == 18  # 18 samples, 4 rows per generate call
    thoughts = jsonl.read_all(out, Thought)
    assert {t.model for t in thoughts} == {str(tiny_model_dir)}
    assert sum(t.usage.get("completion_tokens", 0) for t in thoughts) > 0
    calls.clear()
    again = run(PROBLEMS, t, tmp_path / "t2.jsonl", ExtractSettings(cache_path=cache, progress=False))
    assert again.thoughts == 18 and not calls  # all from the cache
    assert jsonl.read_all(tmp_path / "t2.jsonl", Thought) == thoughts


def test_hf_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(MDError, match="teacher=hf: cannot load"):
        build_hf_teacher(str(tmp_path / "nope"))


def test_replay_round_trip_and_missing(tmp_path):
    src = tmp_path / "src.jsonl"
    rows = [Thought(p.id, m, i, f"{p.id} {m} {i}. The answer is 1.", "gpt-x", {},
                    {"prompt_tokens": 5, "completion_tokens": 7})
            for p in PROBLEMS for m in ("cot", "pot") for i in range(4)]
    jsonl.write(src, rows)
    s = run(PROBLEMS, build_replay_teacher(str(src), n=4), tmp_path / "out.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite", progress=False))
    back = jsonl.read_all(tmp_path / "out.jsonl", Thought)
    assert s.thoughts == 24 and [(t.problem_id, t.method, t.sample_index, t.text) for t in back] \
        == [(t.problem_id, t.method, t.sample_index, t.text) for t in rows]
    assert not (tmp_path / "c.sqlite").exists()  # the file is the cache
    with pytest.raises(MDError, match="no cot thought #4 for problem p0"):
        run(PROBLEMS, build_replay_teacher(str(src), n=5), tmp_path / "o.jsonl", ExtractSettings(progress=False))
    with pytest.raises(MDError, match="no thoughts file at"):
        run(PROBLEMS, build_replay_teacher(str(tmp_path / "none.jsonl")), tmp_path / "o.jsonl")
