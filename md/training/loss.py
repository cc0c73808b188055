"""The Mixed Distillation multi-task loss (paper §3.2, Eq. 2-4), as per-example weights.

Every training example is one (question, path) pair with a weight:
    types 1, 2:  CoT and PoT paths weight 1             L_1,2 = L_path_CoT + L_path_PoT   (Eq. 2)
    type 3:      CoT (1 - λ), PoT λ                     L_3 = (1-λ) L_CoT + λ L_PoT       (Eq. 4)
times the example's `share`, 1/m for the m kept paths of its question and method (md.stages.mix.build),
so L_CoT and L_PoT are each the mean over that question's paths of the method and a question's
loss is exactly Eq. 2 or Eq. 4 whatever the path counts; L = L_1,2 + L_3.

`loss` config group (`example_weight`):
    adaptive  the data's own per-question λ = n2 / (n1 + n2) (MixedExample.weight, set by md.mix)
    fixed     one λ for every type-3 question (`loss.lambda`, the sweep axis); types 1/2 keep 1
    equal     every method of every question weight 1, type 3 included (plain multi-task CoT +
              PoT fine-tuning: the λ ablation); like every mode, split over the question's kept
              paths of the method by `share`, so it differs from `adaptive` in λ alone

Normaliser. ℓ_i, the loss of one example (Eq. 3's ℓ), is the mean token cross-entropy over its
target tokens, so a long CoT and a short program count alike and λ keeps its meaning as the
share of CoT vs PoT. The batch loss is Σ_i w_i ℓ_i / B, with B the number of examples in the
batch, not Σ w_i: length-grouped batches often hold only CoT or only PoT paths, and dividing by
Σ w_i would rescale such a batch of λ-down-weighted paths back to full strength, undoing λ.
Σ w_i ℓ_i / B is then an unbiased estimate of the paper's L over the data, up to one constant
for the whole dataset (md.stages.mix.build scales the shares to mean 1), which changes no ratio
between questions or methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from md.errors import MDError
from md.settings import LOSS_MODES

IGNORE = -100  # label of positions that carry no loss (prompt tokens, padding)
METHOD_IDS = {"cot": 0, "pot": 1, "label": 2}


def example_weight(method: str, qtype: int, weight: float, mode: str, lam: float | None) -> float:
    """The loss weight of one example under the `loss` group's mode (see module docstring)."""
    if mode == "adaptive":
        return float(weight)
    if mode == "equal":
        return 1.0
    if mode == "fixed":
        if not isinstance(lam, (int, float)) or isinstance(lam, bool) or not 0.0 <= lam <= 1.0:
            raise MDError(f"loss=fixed needs loss.lambda in [0, 1], got {lam!r}")
        if qtype != 3:
            return float(weight)
        return lam if method == "pot" else 1.0 - lam
    raise MDError(f"unknown loss mode {mode!r}; expected one of {', '.join(LOSS_MODES)}")


def per_example_ce(logits: torch.Tensor, labels: torch.Tensor, shift: bool) -> torch.Tensor:
    """Mean token cross-entropy of each example over its labelled positions -> (B,).

    logits (B, T, V), labels (B, T) with IGNORE on unlabelled positions. shift=True for decoder
    models, whose logits at t predict the token at t + 1.
    """
    if shift:
        logits, labels = logits[:, :-1], labels[:, 1:]
    b, t, v = logits.shape
    ce = F.cross_entropy(
        logits.reshape(b * t, v).float(), labels.reshape(b * t), ignore_index=IGNORE, reduction="none"
    ).view(b, t)  # (B, T), 0 where ignored
    n_tokens = (labels != IGNORE).sum(dim=1)  # (B,)
    return ce.sum(dim=1) / n_tokens.clamp(min=1)


def target_positions(labels: torch.Tensor) -> torch.Tensor:
    """(B, T) bool: the decoder positions whose logits are scored, those that predict a label.

    The logits at t predict the token at t + 1, so position t is kept when labels[:, t + 1] is
    not IGNORE. A batch's prompts are most of its tokens (SVAMP with a chat template: 60%), and
    the vocabulary projection and its cross-entropy are costly on them (SmolLM2: 49,152 x 576
    per token), so md.training.module projects only these positions (`labelled_ce`).
    """
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE
    return keep


def labelled_ce(logits: torch.Tensor, labels: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """per_example_ce of a decoder from the logits of the kept positions only -> (B,).

    logits (N, V): the rows of `keep.nonzero()`, in that order; labels (B, T); keep (B, T) from
    `target_positions(labels)`. Equal to per_example_ce(full_logits, labels, shift=True).
    """
    rows = keep.nonzero()[:, 0]  # (N,) the example of each kept position
    targets = labels[:, 1:][keep[:, :-1]]  # (N,)
    ce = F.cross_entropy(logits.float(), targets, reduction="none")  # (N,)
    b = labels.shape[0]
    total = torch.zeros(b, dtype=ce.dtype, device=ce.device).index_add_(0, rows, ce)
    return total / torch.bincount(rows, minlength=b).clamp(min=1)


def weighted_loss(per_example: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ_i w_i ℓ_i / B (see the module docstring for why B and not Σ w_i)."""
    return (weights * per_example).sum() / per_example.shape[0]


@dataclass
class LossParts:
    """The training loss and the per-path curves logged beside it (None: no such path in batch)."""

    loss: torch.Tensor
    loss_cot: torch.Tensor | None
    loss_pot: torch.Tensor | None


def md_loss(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor, methods: torch.Tensor,
    shift: bool, paths: bool = True,
) -> LossParts:
    """The MD loss of a batch plus the unweighted mean ℓ of its CoT and of its PoT examples.

    logits (B, T, V); labels (B, T); weights (B,); methods (B,) of METHOD_IDS values. The
    per-path means are unweighted so their curves stay comparable across λ settings.
    paths=False skips them (they cost a device sync; only logging steps need them).
    """
    return combine(per_example_ce(logits, labels, shift), weights, methods, paths)


def combine(per: torch.Tensor, weights: torch.Tensor, methods: torch.Tensor,
            paths: bool = True) -> LossParts:
    """md_loss from the per-example losses ℓ_i (B,) however they were computed."""
    parts = []
    for method in ("cot", "pot") if paths else ():
        mask = methods == METHOD_IDS[method]
        parts.append(per[mask].mean().detach() if bool(mask.any()) else None)
    parts += [None] * (2 - len(parts))
    return LossParts(weighted_loss(per, weights.to(per.dtype)), *parts)
