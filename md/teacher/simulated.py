"""A SIMULATED teacher for offline runs: no LLM is called, text is rendered from the gold solution.

THIS IS A SIMULATION. It only works on synthetic problems (they carry `Solution` steps). It
writes CoT text ending "The answer is X." and PoT programs ending `ans = ...` from the gold
steps, then a seeded error model corrupts some samples the way the paper reports real teachers
err (§1, §3.1, App. D.1), so every one of the paper's four types appears downstream:

* CoT slips in arithmetic, more often the larger the numbers (one slip per problem and step,
  reused by the samples that slip, so slips agree as a real teacher's systematic errors do);
* PoT misreads inverse phrasing ("3 times as many as") and comparisons ("how many more",
  "which is larger"), on a per-problem basis, so some questions are PoT-hard;
* a few problems are hard for both (a step is dropped);
* a few samples are malformed: a CoT with no answer sentence, a PoT program with a syntax error.

Everything is a pure function of (seed, problem id, method, sample index), so any order or
batching of requests gives the same thoughts.

    python -m md.extract data=synthetic teacher=simulated
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from md.errors import MDError
from md.teacher import render
from md.teacher.base import Completion, Request, TeacherFields

MISREAD_TAGS = ("inverse", "compare", "more_fewer")


@dataclass(eq=False, kw_only=True)
class SimulatedTeacher(TeacherFields):
    seed: int = 0
    cot_slip: float = 0.12  # slip chance of a step on 2-digit numbers; doubles per extra digit
    pot_confusable: float = 0.35  # share of inverse/compare problems that PoT tends to misread
    pot_misread: float = 0.8  # per-sample misread chance on a problem PoT finds confusing
    hard_rate: float = 0.2  # problems where both methods tend to drop a step
    malformed: float = 0.04  # per-sample chance of a malformed sample
    n: int = 8
    model: str = "simulated"
    batch_size: int = 256
    cacheable: bool = False  # free and deterministic: nothing to save

    def __post_init__(self):
        self.params = {"seed": self.seed, "cot_slip": self.cot_slip, "hard_rate": self.hard_rate,
                       "pot_confusable": self.pot_confusable, "pot_misread": self.pot_misread,
                       "malformed": self.malformed}

    async def complete(self, reqs: list[Request]) -> list[Completion]:
        return [self.answer(r) for r in reqs]

    def answer(self, req: Request) -> Completion:
        p = req.problem
        if p.solution is None:
            raise MDError(f"teacher=simulated only writes thoughts for synthetic problems (with a "
                          f"gold solution); {p.id} from {p.dataset} has none. Use data=synthetic, "
                          "or teacher=openai / teacher=replay for real benchmarks")
        texts = tuple(self.sample(p, req.method, i) for i in req.indices)
        usage = {"prompt_tokens": 0, "completion_tokens": sum(len(t) // 4 for t in texts)}
        return Completion(texts, usage)

    def _rng(self, *parts: Any) -> random.Random:
        digest = hashlib.sha256(repr((self.seed, *parts)).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def sample(self, problem, method: str, index: int) -> str:
        """One thought; the problem-level draws come first so all samples share them."""
        sol = problem.solution
        traits = self._rng(problem.id, "traits")
        hard = traits.random() < self.hard_rate
        confusable = (any(t in sol.tags for t in MISREAD_TAGS)
                      and traits.random() < self.pot_confusable)
        slips = [traits.choice((-1, 1)) * traits.choice((1, 2, 10, 100)) for _ in sol.steps]
        rng = self._rng(problem.id, method, index)
        drop = hard and rng.random() < 0.7  # a hard problem: a step goes missing or wrong
        multi = len(sol.steps) > 1
        malformed = rng.random() < self.malformed
        if method == "cot":
            values = render.evaluate(sol)
            slip_at = [rng.random() < self._slip_chance(values, step) for step in sol.steps]
            slip_at[-1] = slip_at[-1] or (drop and not multi)
            steps = render.apply(sol, slip=[s if a else 0 for s, a in zip(slips, slip_at, strict=True)],
                                 drop_last=drop)
            return render.cot_text(sol, steps, malformed=malformed)
        misread = (confusable and rng.random() < self.pot_misread) or (drop and not multi)
        return render.pot_code(sol, misread=misread, drop_last=drop, malformed=malformed,
                               variant=rng.randrange(3))

    def _slip_chance(self, values: dict, step) -> float:
        if step.op == "cmp":
            return self.cot_slip / 4
        biggest = max(abs(values.get(a, 0.0)) for a in (*step.args, step.out))
        digits = len(str(int(biggest))) if biggest >= 1 else 1
        return min(0.95, self.cot_slip * 2.0 ** (digits - 2))


def build_simulated_teacher(*, seed: int = 0, n: int = 8, cot_slip: float = 0.12,
                            pot_confusable: float = 0.35, pot_misread: float = 0.8,
                            hard_rate: float = 0.2, malformed: float = 0.04,
                            budget_usd: float | None = None,
                            mode: str = "online") -> SimulatedTeacher:
    """Builder for conf/teacher/simulated.yaml."""
    if mode != "online":
        raise MDError("teacher=simulated has no batch mode; drop teacher.mode=batch")
    return SimulatedTeacher(seed=seed, n=n, cot_slip=cot_slip, pot_confusable=pot_confusable,
                            pot_misread=pot_misread, hard_rate=hard_rate, malformed=malformed,
                            budget_usd=budget_usd)
