"""The inference methods, as pure functions of one question's judged paths.

A question's paths are the sampled CoT paths, the sampled PoT paths (each in sampling order)
and, optionally, one greedy path per method (`ReasoningPath.greedy`). Every method reads the same
paths, so all of them come from ONE sampling run:

    +CoT        vote over the CoT answers (all N sampled)
    +PoT        vote over the executed PoT answers (all N sampled)
    +CoT w/PoT  vote over concat(A_CoT, A_PoT), the paper's Eq. 5 (ties: earliest, so CoT first),
                over the first `mixed_n` of each (the paper's Table 1: 10 CoT + 10 PoT paths)
    cascade     the paper's N=2: one PoT path; if it fails to execute or gives no answer, one CoT
    greedy_*    the greedy (temperature 0) path of each method
    label       a label-fine-tuned student's bare answers, voted (greedy_label: its greedy one)

`*_flexible` re-reads the CoT texts with the flexible extractor (last number), as
lm-evaluation-harness reports both. An ensemble of two students is the same vote over paths
whose CoT came from one student and PoT from the other (see md.evaluate).

    votes(paths)  # {"cot": 5.0, "pot": 6.0, "cot_w_pot": 6.0, "cascade": 6.0, ...}
"""

from __future__ import annotations

from collections.abc import Sequence

from md.answers import extract_cot_answer, is_correct, majority_vote
from md.types import Answer, ReasoningPath

# The methods every evaluation reports, in table order.
SAMPLED = ("cot", "pot", "cot_w_pot")
INFERENCE_METHODS = (*SAMPLED, "cascade", "greedy_cot", "greedy_pot", "cot_flexible", "cot_w_pot_flexible")


def sampled(paths: Sequence[ReasoningPath], method: str) -> list[ReasoningPath]:
    """The sampled (non-greedy) paths of one method, in sampling order."""
    return [p for p in paths if p.method == method and not p.greedy]


def cot_answer(path: ReasoningPath, mode: str = "strict") -> Answer | None:
    """A CoT path's answer: the judged (strict) one, or re-extracted flexibly from its text."""
    return path.answer if mode == "strict" else extract_cot_answer(path.text, mode)


def answers(paths: Sequence[ReasoningPath], method: str, n: int | None = None,
            mode: str = "strict") -> list[Answer | None]:
    """The first `n` sampled answers of `method` ("cot" | "pot" | "cot_w_pot" = concat)."""
    if method == "cot_w_pot":
        return answers(paths, "cot", n, mode) + answers(paths, "pot", n)
    chosen = sampled(paths, method)[:n]
    if method == "cot":
        return [cot_answer(p, mode) for p in chosen]
    return [p.answer for p in chosen]


def vote(paths: Sequence[ReasoningPath], method: str, n: int | None = None,
         mode: str = "strict") -> Answer | None:
    """Majority vote over the first `n` sampled answers of `method` (None: no answer at all)."""
    return majority_vote(answers(paths, method, n, mode))


def executed(path: ReasoningPath) -> bool:
    """Whether a PoT path ran and produced an answer (the cascade's success test)."""
    return path.status == "ok" and path.answer is not None


def cascade_pair(pot: ReasoningPath | None, cot: ReasoningPath | None) -> tuple[Answer | None, int]:
    """(answer, paths used): the PoT path's answer if it executed, else the CoT path's."""
    if pot is not None and executed(pot):
        return pot.answer, 1
    if cot is None:
        return None, int(pot is not None)
    return cot.answer, 1 + int(pot is not None)


def cascade(paths: Sequence[ReasoningPath]) -> tuple[Answer | None, int]:
    """The N=2 cascade on the first sampled PoT and the first sampled CoT path."""
    pots, cots = sampled(paths, "pot"), sampled(paths, "cot")
    return cascade_pair(pots[0] if pots else None, cots[0] if cots else None)


def greedy(paths: Sequence[ReasoningPath], method: str) -> Answer | None:
    """The answer of the greedy path of `method`, None when there is none."""
    for p in paths:
        if p.method == method and p.greedy:
            return p.answer
    return None


def votes(paths: Sequence[ReasoningPath], mixed_n: int | None = None) -> dict[str, Answer | None]:
    """Every method's answer for one question (greedy ones only where greedy paths exist).

    mixed_n: paths per method in the +CoT w/PoT vote (None: all sampled). A label student's
    paths (method "label") get only the label methods; paths of one reasoning method only (a
    CoT- or PoT-distilled student, sampled in its own method) get only that method's.
    """
    if any(p.method == "label" for p in paths):
        out = {"label": vote(paths, "label")}
        if any(p.greedy for p in paths):
            out["greedy_label"] = greedy(paths, "label")
        return out
    present = [m for m in ("cot", "pot") if any(p.method == m for p in paths)]
    if len(present) == 1:
        (only,) = present
        out = {only: vote(paths, only)}
        if only == "cot":
            out["cot_flexible"] = vote(paths, "cot", mode="flexible")
        if any(p.greedy for p in paths):
            out[f"greedy_{only}"] = greedy(paths, only)
        return out
    out = {
        "cot": vote(paths, "cot"),
        "pot": vote(paths, "pot"),
        "cot_w_pot": vote(paths, "cot_w_pot", mixed_n),
        "cascade": cascade(paths)[0],
        "cot_flexible": vote(paths, "cot", mode="flexible"),
        "cot_w_pot_flexible": vote(paths, "cot_w_pot", mixed_n, mode="flexible"),
    }
    for method in ("cot", "pot"):  # only when a greedy pass was run
        if any(p.method == method and p.greedy for p in paths):
            out[f"greedy_{method}"] = greedy(paths, method)
    return out


def score(voted: dict[str, Answer | None], gold: Answer) -> dict[str, bool]:
    """Whether each method's answer is right (no answer is wrong)."""
    return {k: v is not None and is_correct(v, gold) for k, v in voted.items()}


def paths_used(n: int, mixed_n: int | None, label: bool = False) -> dict[str, str]:
    """How many paths each reported number used, for the tables ("10+10": CoT + PoT)."""
    if label:
        return {"label": str(n), "greedy_label": "1"}
    m = n if mixed_n is None else min(n, mixed_n)
    return {"cot": str(n), "pot": str(n), "cot_w_pot": f"{m}+{m}", "cascade": "1-2",
            "greedy_cot": "1", "greedy_pot": "1", "cot_flexible": str(n),
            "cot_w_pot_flexible": f"{m}+{m}", "ensemble": f"{m}+{m}"}
