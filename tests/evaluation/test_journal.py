"""A killed evaluation resumes where it stopped, and the result equals an uninterrupted run's
byte for byte: with per-question seeds, and without them (the RNG state is restored).

A real (tiny, random) HF student samples; a wrapper crashes it after k generate calls, as a kill
would stop it (every journal line already written is flushed and fsynced; a line cut by the kill
is dropped on load, which the second test checks on a real file).
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from md.config.builders import test_problems as load_test_problems
from md.evaluation.journal import NAME, Journal
from md.inference.hf import HFGenerator
from md.stages.evaluate import Students
from md.stages.evaluate import run as evaluate
from tests.evaluation.test_shards import SETTINGS, compose_eval


class Killed(Exception):
    pass


class DiesAfter:
    """The student, killed at its k-th generate call."""

    def __init__(self, student, k):
        self.student, self.left = student, k

    def sample(self, prompts, n, temperature):
        self.left -= 1
        if self.left < 0:
            raise Killed
        return self.student.sample(prompts, n, temperature)

    def __getattr__(self, name):
        return getattr(self.student, name)


@pytest.mark.parametrize(("killed_at", "seed_per_question"), [
    (2, False),  # in the sampled CoT phase, one RNG stream for every question
    (5, True),   # in the sampled PoT phase, each question seeded on its own
])
def test_a_killed_evaluation_resumes_and_equals_an_uninterrupted_one(
        tmp_path, sandbox, tiny_llama, killed_at, seed_per_question):
    model, tok = tiny_llama
    student = HFGenerator(model, tok, batch_size=2, max_new_tokens=6, progress=False,
                          seed_per_prompt=0 if seed_per_question else None)
    settings = dataclasses.replace(SETTINGS, resume_every=2, seed_per_question=seed_per_question)
    problems = load_test_problems(compose_eval())  # 5 questions: 3 chunks per phase
    whole = evaluate(problems, Students.one(student), sandbox, settings, tmp_path / "whole",
                     journal_key="the same student")
    with pytest.raises(Killed):
        evaluate(problems, Students.one(DiesAfter(student, killed_at)), sandbox, settings,
                 tmp_path / "resumed", journal_key="the same student")
    lines = (tmp_path / "resumed" / NAME).read_text().splitlines()
    assert len(lines) == 1 + killed_at  # the manifest, then one line per finished chunk
    assert not (tmp_path / "resumed" / "metrics.json").exists()
    resumed = evaluate(problems, Students.one(student), sandbox, settings, tmp_path / "resumed",
                       journal_key="the same student")
    assert resumed == whole
    for name in ("predictions.jsonl", "curves.json", "metrics.json"):
        assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    again = evaluate(problems, Students.one(DiesAfter(student, 0)), sandbox, settings,
                     tmp_path / "resumed", journal_key="the same student")
    assert again == whole  # a finished evaluation, rerun, generates nothing (it would die)
    texts = [p["text"] for line in (tmp_path / "whole" / "predictions.jsonl").open()
             for p in json.loads(line)["paths"]]
    assert len(set(texts)) > len(problems)  # not vacuous: the sampled paths differ


def test_a_cut_line_is_dropped_and_other_settings_start_over(tmp_path, capsys):
    path = tmp_path / NAME
    journal = Journal(path, "student A", every=2)
    calls = []

    def call(part):
        calls.append(list(part))
        return [[f"{p}!"] for p in part]

    assert journal.run("cot", ["a", "b", "c", "d", "e"], call, 2) == [[f"{p}!"] for p in "abcde"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # the kill cut the last line
    calls.clear()
    again = Journal(path, "student A", every=2)
    assert again.run("cot", ["a", "b", "c", "d", "e"], call, 2) == [[f"{p}!"] for p in "abcde"]
    assert calls == [["e"]]  # only the cut chunk is sampled again
    assert "resuming from" in capsys.readouterr().err
    calls.clear()
    other = Journal(path, "student B", every=2)
    other.run("cot", ["a", "b", "c", "d", "e"], call, 2)
    assert calls == [["a", "b"], ["c", "d"], ["e"]]
    assert "sampled with other settings" in capsys.readouterr().err


def test_the_journal_changes_no_sample(tmp_path, sandbox, tiny_llama):
    """Chunks are whole multiples of the generator's batches: a journaled evaluation makes the
    very calls, and draws the very samples, of one that records nothing."""
    model, tok = tiny_llama
    student = HFGenerator(model, tok, batch_size=4, max_new_tokens=6, progress=False)
    settings = dataclasses.replace(SETTINGS, resume_every=3)
    problems = load_test_problems(compose_eval())
    evaluate(problems, Students.one(student), sandbox, settings, tmp_path / "plain")
    evaluate(problems, Students.one(student), sandbox, settings, tmp_path / "journaled",
             journal_key="k")
    assert (tmp_path / "plain" / "predictions.jsonl").read_bytes() == \
        (tmp_path / "journaled" / "predictions.jsonl").read_bytes()
