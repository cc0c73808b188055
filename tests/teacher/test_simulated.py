"""The simulated teacher: well-formed thoughts from gold steps, a seeded error model that makes
all four of the paper's types appear once thoughts are executed and judged, and determinism."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from md import answers
from md.data.synthetic import load
from md.errors import MDError
from md.settings import ExtractSettings
from md.stages.extract import run
from md.teacher.base import Request
from md.teacher.simulated import build_simulated_teacher
from md.types import Problem, Solution, Step, Thought


def execute(programs: list[str]) -> list[object]:
    """PoT answers through md.sandbox (the product's executor)."""
    from md.sandbox import Sandbox

    with Sandbox(workers=1, timeout_s=5.0, memory_mb=512) as sb:
        return [r.answer if r.status == "ok" else None for r in sb.run(programs)]


def judge(problems: list[Problem], thoughts: list[Thought]) -> dict[str, int]:
    """Problem id -> type (1 only PoT right, 2 only CoT right, 3 both, 4 neither) by majority vote."""
    pot = [t for t in thoughts if t.method == "pot"]
    pot_answers = dict(zip([id(t) for t in pot], execute([t.text for t in pot]), strict=True))
    votes: dict[tuple[str, str], list] = {}
    for t in thoughts:
        a = answers.extract_cot_answer(t.text) if t.method == "cot" else pot_answers[id(t)]
        votes.setdefault((t.problem_id, t.method), []).append(a)
    types = {}
    for p in problems:
        cot = answers.is_correct(answers.majority_vote(votes[(p.id, "cot")]), p.answer)
        pot_ok = answers.is_correct(answers.majority_vote(votes[(p.id, "pot")]), p.answer)
        types[p.id] = 3 if cot and pot_ok else 1 if pot_ok else 2 if cot else 4
    return types


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    from md import jsonl

    problems = load("train", n_train=240)
    out = tmp_path_factory.mktemp("sim") / "thoughts.jsonl"
    s = run(problems, build_simulated_teacher(n=8), out, ExtractSettings(progress=False))
    thoughts = jsonl.read_all(out, Thought)
    return problems, thoughts, s, judge(problems, thoughts)


def test_all_four_types_appear_in_paper_like_shares(extracted):
    problems, _, s, types = extracted
    assert s.complete and s.thoughts == 240 * 2 * 8 and s.spent_usd == 0
    counts = Counter(types.values())
    assert set(counts) == {1, 2, 3, 4}
    assert counts[3] > len(problems) / 2  # both right dominates, as in the paper (~60%)
    assert min(counts[1], counts[2], counts[4]) >= len(problems) * 0.03


def test_formats_and_malformed_samples(extracted):
    _, thoughts, _, _ = extracted
    cot = [t.text for t in thoughts if t.method == "cot"]
    pot = [t.text for t in thoughts if t.method == "pot"]
    ended = sum(t.rstrip().endswith(".") and "The answer is " in t for t in cot)
    assert 0.9 * len(cot) < ended < len(cot)  # a few CoT give no answer
    with_ans = sum(t.splitlines()[-1].startswith("ans = ") for t in pot)
    assert 0.9 * len(pot) < with_ans < len(pot)
    broken = 0
    for code in pot:
        try:
            compile(code, "<pot>", "exec")
        except SyntaxError:
            broken += 1
    assert broken > 0  # a few programs do not even compile


def test_errors_follow_the_paper_shape(extracted):
    problems, _, _, types = extracted
    tagged = Counter((t, types[p.id]) for p in problems for t in p.solution.tags)
    # PoT-only wins come from large numbers, CoT-only wins from inverse/compare phrasing
    assert tagged[("large_numbers", 1)] > tagged[("large_numbers", 2)]
    misread = sum(tagged[(t, 2)] - tagged[(t, 1)] for t in ("inverse", "compare", "more_fewer"))
    assert misread > 0


def test_deterministic_and_order_free():
    p = load("train", n_train=3)[2]
    t = build_simulated_teacher(seed=3)
    one = asyncio.run(t.complete([Request(p, "cot", (), "k", (0, 1, 2, 3))]))[0].texts
    two = asyncio.run(t.complete([Request(p, "cot", (), "k", (3,)),
                                  Request(p, "cot", (), "k", (0, 1, 2))]))
    assert one == two[1].texts + two[0].texts
    other = build_simulated_teacher(seed=4)
    assert [other.sample(q, "cot", i) for q in load("train", n_train=30) for i in range(4)] != \
        [t.sample(q, "cot", i) for q in load("train", n_train=30) for i in range(4)]


def test_compare_problem_renders_labels():
    sol = Solution(values={"monday": 12.0, "tuesday": 15.0},
                   steps=(Step("cmp", ("monday", "tuesday"), "more"),),
                   labels={"monday": "monday", "tuesday": "tuesday", "neither": "neither day"},
                   tags=("compare",))
    p = Problem("c1", "synthetic", "train", "Which day had more?", "tuesday", solution=sol)
    t = build_simulated_teacher(malformed=0.0, hard_rate=0.0, cot_slip=0.0)
    assert t.sample(p, "cot", 0).endswith("The answer is tuesday.")
    env: dict = {}
    exec(t.sample(p, "pot", 0), env)  # our own rendered program, not model output
    assert env["ans"] in ("tuesday", "monday")


def test_real_benchmark_problem_is_a_clear_error(tmp_path):
    p = Problem("g1", "gsm8k", "train", "How many?", 3.0)
    with pytest.raises(MDError, match="only writes thoughts for synthetic problems"):
        run([p], build_simulated_teacher(), tmp_path / "t.jsonl", ExtractSettings(progress=False))
