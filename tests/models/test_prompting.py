"""Chat templates and stop strings: what the model sees is what it was trained on, once.

A LLaMA-style template writes BOS itself; tokenising its output the plain way adds a second BOS.
Training (md.training.batching.encode), the student's HF generation and the HF teacher all go through
md.models.prompting, so these tests check the ids each of them really feeds the model.
"""

from __future__ import annotations

import re

import pytest
import torch

from md.inference.hf import HFGenerator
from md.models.prompting import chat_ids, prompt_ids
from md.models.tokenizer import train_tokenizer
from md.prompts import student_input
from md.training.batching import encode
from md.types import MixedExample

LLAMA_STYLE = ("{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]"
               "{% endfor %}")


def tiny(seed: int = 0):
    """A random 1-layer LLaMA with the tokenizer training gives tiny students (BOS added)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    texts = [student_input(f"Tom has {i} apples and buys {i + 4}. How many?", m)
             for i in range(20) for m in ("cot", "pot")] + ["ans = 12 + 7", "7 Question: 8"]
    tok = train_tokenizer(texts, vocab_size=300)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id)).eval()
    return model, tok


@pytest.fixture(scope="module")
def student():
    model, tok = tiny()
    tok.chat_template = LLAMA_STYLE
    return model, tok


def test_a_templated_prompt_has_one_bos(student):
    _, tok = student
    prompt = student_input("Tom has 3 apples and buys 4. How many?", "cot")
    plain = tok(tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False))
    assert plain.input_ids.count(tok.bos_token_id) == 2  # the bug this module exists for
    (ids,) = prompt_ids(tok, [prompt], chat=True)
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    (conv,) = chat_ids(tok, [[{"role": "system", "content": "Solve."},
                              {"role": "user", "content": prompt}]])
    assert conv.count(tok.bos_token_id) == 1


def test_training_and_generation_feed_the_same_prompt_ids(student, monkeypatch):
    model, tok = student
    prompt = student_input("A shop sold 12 pens and 7 more. How many?", "pot")
    ex = MixedExample("p", "pot", prompt, "ans = 12 + 7", 1.0, 1, None)
    for chat in (False, True):
        (item,), _ = encode([ex], [1.0], tok, seq2seq=False, max_length=256, chat=chat)
        trained_prompt = [i for i, label in zip(item.input_ids, item.labels, strict=True)
                          if label == -100]
        seen: list[list[int]] = []

        def spy(real=model.generate, seen=seen, **kw):
            seen.append(kw["input_ids"][0].tolist())
            return real(**kw)

        monkeypatch.setattr(model, "generate", spy)
        HFGenerator(model, tok, batch_size=2, max_new_tokens=2, chat=chat).greedy([prompt])
        monkeypatch.undo()
        assert seen[0] == trained_prompt, f"chat={chat}"


def test_generation_stops_at_the_stop_string_not_at_max_new_tokens(monkeypatch):
    """A row stops when it writes the stop string; the batch ends when every row has."""
    import md.inference.hf

    model, tok = tiny()
    calls = []
    real = model.generate
    monkeypatch.setattr(model, "generate", lambda **kw: calls.append(real(**kw)) or calls[-1])
    gen = HFGenerator(model, tok, batch_size=2, max_new_tokens=40)
    prompt = student_input("Tom has 3 apples and buys 4. How many?", "cot")
    monkeypatch.setattr(md.inference.hf, "STOP", "\u2603never written\u2603")
    (free,) = gen.greedy([prompt])  # what the random model writes when nothing stops it
    width = calls[-1].shape[1]
    # a stop string it is certain to write: its first plain lower-case word (byte-level tokens
    # of a random model also write partial UTF-8, which no stop string matches)
    stop = re.search(r"[a-z]{3,}", free).group(0)
    from transformers import StopStringCriteria

    try:
        StopStringCriteria(tok, [stop])
    except ValueError:  # older transformers releases cannot map it onto this byte-level vocab
        pytest.skip(f"this transformers release cannot match the stop string {stop!r} in tokens")
    monkeypatch.setattr(md.inference.hf, "STOP", stop)
    gen = HFGenerator(model, tok, batch_size=2, max_new_tokens=40)  # reads STOP when built
    (cut,) = gen.greedy([prompt])
    assert cut == free.split(stop, 1)[0].strip()
    assert calls[-1].shape[1] < width  # fewer tokens generated: it stopped, not just cut


def test_the_hf_teacher_renders_its_few_shot_prompt_with_one_bos(student):
    from md.teacher.base import Request
    from md.teacher.hf import HFTeacher
    from md.teacher.prompts import build_messages
    from md.types import Problem

    _, tok = student
    problem = Problem("p", "svamp", "train", "Ann has 3 pens and buys 2. How many?", 5.0)
    messages = build_messages(problem, "cot")
    ids = HFTeacher(model_obj=None, tokenizer=tok, model="tiny").render(Request(problem, "cot", messages, "k", (0,)))
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
