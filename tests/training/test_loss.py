"""The MD loss (md/training/loss.py) against hand computations: weights, masking, shift and normaliser."""

from __future__ import annotations

import math

import pytest
import torch

from md.errors import MDError
from md.training.loss import (
    IGNORE,
    METHOD_IDS,
    example_weight,
    labelled_ce,
    md_loss,
    per_example_ce,
    target_positions,
    weighted_loss,
)

COT, POT = METHOD_IDS["cot"], METHOD_IDS["pot"]


def _ce(row: list[float], target: int) -> float:
    """-log softmax(row)[target], by hand."""
    return -(row[target] - math.log(sum(math.exp(x) for x in row)))


@pytest.mark.parametrize(
    ("method", "qtype", "weight", "mode", "lam", "expected"),
    [
        ("cot", 3, 0.3, "adaptive", None, 0.3),  # the data's own per-question weight
        ("pot", 1, 1.0, "adaptive", None, 1.0),
        ("cot", 3, 0.3, "fixed", 0.25, 0.75),  # (1 - λ) on CoT
        ("pot", 3, 0.7, "fixed", 0.25, 0.25),  # λ on PoT
        ("cot", 2, 1.0, "fixed", 0.25, 1.0),  # types 1/2 keep weight 1 under a fixed λ
        ("pot", 3, 0.7, "equal", None, 1.0),
        ("label", 0, 1.0, "equal", None, 1.0),
    ],
)
def test_example_weight(method, qtype, weight, mode, lam, expected):
    assert example_weight(method, qtype, weight, mode, lam) == pytest.approx(expected)


def test_example_weight_rejects_bad_settings():
    with pytest.raises(MDError, match="loss.lambda"):
        example_weight("cot", 3, 0.5, "fixed", None)
    with pytest.raises(MDError, match="loss.lambda"):
        example_weight("cot", 3, 0.5, "fixed", 1.5)
    with pytest.raises(MDError, match="unknown loss mode"):
        example_weight("cot", 3, 0.5, "weighted", None)


def test_per_example_ce_is_token_mean_over_labelled_positions():
    logits = torch.tensor(
        [[[1.0, 2.0, 0.5], [0.1, 0.2, 3.0], [2.0, -1.0, 0.0]],
         [[0.3, 0.3, 0.3], [1.5, 0.0, -0.5], [0.0, 0.0, 4.0]]]
    )  # (B=2, T=3, V=3)
    labels = torch.tensor([[IGNORE, 2, 0], [1, IGNORE, IGNORE]])
    got = per_example_ce(logits, labels, shift=False)
    row0 = (_ce([0.1, 0.2, 3.0], 2) + _ce([2.0, -1.0, 0.0], 0)) / 2  # two labelled tokens
    row1 = _ce([0.3, 0.3, 0.3], 1)  # one labelled token
    assert got.tolist() == pytest.approx([row0, row1], abs=1e-6)


def test_shift_predicts_the_next_token():
    logits = torch.randn(1, 4, 5)
    labels = torch.tensor([[IGNORE, IGNORE, 3, 1]])  # a 2-token prompt, then the target
    got = per_example_ce(logits, labels, shift=True)
    rows = logits[0].tolist()
    expected = (_ce(rows[1], 3) + _ce(rows[2], 1)) / 2  # logits at t score the token at t + 1
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_prompt_and_padding_positions_carry_no_loss():
    logits = torch.randn(2, 5, 7, requires_grad=True)
    labels = torch.tensor([[IGNORE, IGNORE, 4, 2, IGNORE], [IGNORE, 1, 6, 6, 0]])
    weights, methods = torch.tensor([1.0, 0.5]), torch.tensor([COT, POT])
    md_loss(logits, labels, weights, methods, shift=True).loss.backward()
    # with shift, position t is trained iff label t + 1 is not IGNORE
    trained = torch.tensor([[False, True, True, False, False], [True, True, True, True, False]])
    grad_norm = logits.grad.abs().sum(-1)  # (B, T)
    assert torch.all(grad_norm[~trained] == 0)
    assert torch.all(grad_norm[trained] > 0)


def test_normaliser_is_weighted_sum_over_batch_size():
    per = torch.tensor([2.0, 4.0, 1.0])
    weights = torch.tensor([1.0, 0.25, 0.75])
    assert weighted_loss(per, weights).item() == pytest.approx((2.0 + 1.0 + 0.75) / 3)


def test_md_loss_hand_computed_batch():
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 6)
    labels = torch.tensor([[IGNORE, 2, 3, IGNORE], [IGNORE, IGNORE, 5, 5], [IGNORE, 1, 0, 4]])
    methods = torch.tensor([COT, POT, POT])
    weights = torch.tensor([0.4, 0.6, 1.0])  # a type-3 pair with λ = 0.6, and a type-1 PoT path
    parts = md_loss(logits, labels, weights, methods, shift=True)
    rows = logits.tolist()
    ell = [sum(_ce(rows[b][t - 1], labels[b, t].item()) for t in range(1, 4) if labels[b, t] != IGNORE)
           / int((labels[b, 1:] != IGNORE).sum()) for b in range(3)]
    assert parts.loss.item() == pytest.approx((0.4 * ell[0] + 0.6 * ell[1] + ell[2]) / 3, abs=1e-6)
    assert parts.loss_cot.item() == pytest.approx(ell[0], abs=1e-6)  # unweighted path means
    assert parts.loss_pot.item() == pytest.approx((ell[1] + ell[2]) / 2, abs=1e-6)
    only_cot = md_loss(logits[:1], labels[:1], weights[:1], methods[:1], shift=True)
    assert only_cot.loss_pot is None


@pytest.mark.parametrize(("lam", "kept"), [(1.0, "pot"), (0.0, "cot")])
def test_type3_lambda_extremes_give_exactly_one_path_loss(lam, kept):
    """Eq. 4 with λ = 1 is exactly L_PoT (and λ = 0 exactly L_CoT): the other path gets no gradient."""
    torch.manual_seed(1)
    logits = torch.randn(2, 6, 9, requires_grad=True)
    labels = torch.tensor([[IGNORE, IGNORE, 3, 4, 5, 1], [IGNORE, IGNORE, IGNORE, 8, 2, 1]])
    methods = torch.tensor([COT, POT])
    weights = torch.tensor([example_weight(m, 3, 0.5, "fixed", lam) for m in ("cot", "pot")])
    parts = md_loss(logits, labels, weights, methods, shift=True)
    row = 1 if kept == "pot" else 0
    alone = per_example_ce(logits[row : row + 1], labels[row : row + 1], shift=True)
    # the question's loss (1-λ)·ℓ_cot + λ·ℓ_pot equals the kept path's loss bit for bit
    assert torch.equal(parts.loss * 2, alone[0])
    parts.loss.backward()
    assert torch.all(logits.grad[1 - row] == 0)
    assert logits.grad[row].abs().sum() > 0


def _judged(pid: str, method: str, texts: list[str], unanswered: int = 0):
    """Correct thoughts with these texts, then `unanswered` samples that gave no answer."""
    from md.types import JudgedThought

    ok = [JudgedThought(pid, method, i, t, "ok", 4.0, True) for i, t in enumerate(texts)]
    return ok + [JudgedThought(pid, method, len(texts) + i, "?", "no_answer", None, False)
                 for i in range(unanswered)]


@pytest.mark.parametrize("mode", ["adaptive", "fixed"])
def test_unequal_path_counts_keep_eq4_exact(mode):
    """1 kept CoT path and 3 kept PoT paths: still (1-λ) L_CoT + λ L_PoT, each a mean over its
    paths, and every question weighs the same whatever its number of kept paths (Eq. 2-4)."""
    from md.mixing.vote import summarize
    from md.stages.mix import build
    from md.types import Problem

    three = Problem("q3", "synthetic", "train", "Q3?", 4.0)
    two = Problem("q2", "synthetic", "train", "Q2?", 4.0)
    # three samples per method, as with the paper's n per method; the rest gave no answer
    q3 = summarize(three, _judged("q3", "cot", ["c"], 2) + _judged("q3", "pot", ["a", "b", "c"]))
    q3_more = summarize(two, _judged("q2", "cot", ["c", "d", "e", "f"]) + _judged("q2", "pot", ["a"], 3))
    lam = 0.3 if mode == "fixed" else q3.lam
    records = build([q3, q3_more], "md", k=4, factors={1: 1, 2: 1, 3: 1}, seed=0)

    def total(pid, method):
        return sum(example_weight(e.method, e.qtype, e.weight, mode, lam) * e.share
                   for e in records if e.problem_id == pid and e.method == method)

    assert q3.qtype == 3 and q3.lam == pytest.approx(3 / 4)
    assert total("q3", "pot") / total("q3", "cot") == pytest.approx(lam / (1 - lam))
    question_weight = total("q3", "cot") + total("q3", "pot")
    lam2 = 0.3 if mode == "fixed" else q3_more.lam
    assert total("q2", "pot") / total("q2", "cot") == pytest.approx(lam2 / (1 - lam2))
    assert total("q2", "cot") + total("q2", "pot") == pytest.approx(question_weight)
    assert sum(e.share for e in records) / len(records) == pytest.approx(1.0)


def test_labelled_ce_from_the_kept_rows_equals_the_full_logits_loss():
    """The logits of the kept positions alone give per_example_ce's values (hand-checked row)."""
    logits = torch.tensor(
        [[[1.0, 2.0, 0.5], [0.1, 0.2, 3.0], [2.0, -1.0, 0.0], [0.0, 1.0, 0.0]],
         [[0.3, 0.3, 0.3], [1.5, 0.0, -0.5], [0.0, 0.0, 4.0], [9.0, 9.0, 9.0]]]
    )  # (B=2, T=4, V=3)
    labels = torch.tensor([[IGNORE, IGNORE, 1, 2], [IGNORE, 0, 2, IGNORE]])  # row 1 padded
    keep = target_positions(labels)
    assert keep.tolist() == [[False, True, True, False], [True, True, False, False]]
    got = labelled_ce(logits[keep], labels, keep)
    row0 = (_ce([0.1, 0.2, 3.0], 1) + _ce([2.0, -1.0, 0.0], 2)) / 2
    row1 = (_ce([0.3, 0.3, 0.3], 0) + _ce([1.5, 0.0, -0.5], 2)) / 2
    assert got.tolist() == pytest.approx([row0, row1], rel=1e-6)
    assert torch.allclose(got, per_example_ce(logits, labels, shift=True))


def test_loss_equal_weighs_each_method_of_a_question_1_split_over_its_paths():
    """loss=equal as its docs say (conf/loss/equal.yaml, md.training.loss): a type-3
    question's CoT and PoT each weigh 1, whatever λ, split over the kept paths of each, exactly
    as loss=adaptive splits its (1-λ, λ); the weights train.run trains with are checked."""
    from train_settings import settings

    from md.mixing.vote import summarize
    from md.settings import LossSettings
    from md.stages.mix import build
    from md.stages.train import loss_weights
    from md.types import Problem

    q = Problem("q", "synthetic", "train", "Q?", 4.0)
    one = Problem("p", "synthetic", "train", "P?", 4.0)
    qs = [summarize(q, _judged("q", "cot", ["c"], 2) + _judged("q", "pot", ["a", "b", "c"])),
          summarize(one, _judged("p", "cot", ["c"]) + _judged("p", "pot", ["a"]))]
    records = build(qs, "md", k=4, factors={1: 1, 2: 1, 3: 1}, seed=0)
    equal = loss_weights(records, settings(loss=LossSettings(mode="equal")))
    adaptive = loss_weights(records, settings(loss=LossSettings(mode="adaptive")))

    def total(weights, pid, method):
        return sum(w for w, e in zip(weights, records, strict=True)
                   if e.problem_id == pid and e.method == method)

    scale = next(e.share for e in records if e.problem_id == "p")  # one path: md.stages.mix
    # .build's dataset-wide constant, the same for every example
    assert [e.method for e in records if e.problem_id == "q"].count("pot") == 3
    for pid in ("q", "p"):  # each method of each question: weight 1 (times the constant)
        assert total(equal, pid, "cot") == pytest.approx(scale)
        assert total(equal, pid, "pot") == pytest.approx(scale)
    lam = qs[0].lam  # 3 right of 3 PoT, 1 of 3 CoT: λ = 3/4
    assert total(adaptive, "q", "pot") / total(adaptive, "q", "cot") == pytest.approx(lam / (1 - lam))
    assert lam == pytest.approx(0.75) and total(equal, "q", "pot") == total(equal, "q", "cot")
