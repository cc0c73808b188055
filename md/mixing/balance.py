"""How many times each type's questions are repeated in the MD mix ("upsample Types 1 and 2").

The paper upsamples the rare types 1 (only PoT right) and 2 (only CoT right) and drops type 4
to make the mixed thought data "well balanced", without giving the factor. Two settings:

- `upsample: auto` (the default): repeat type 1 and type 2 questions, each type on its own,
  by the integer factor that brings it closest to `target_share` of the kept questions, at
  least 2 whenever the type is rarer than type 3 (the paper upsamples both rare types) and
  never above `max_factor`. With target_share 0.25 each rare type becomes about a quarter of
  the mix and type 3 about half: the paper's 10% / 10% / 60% (+20% type 4) turns into
  30 / 30 / 60 questions, i.e. 25% / 25% / 50%; GSM8K-like shares (32% / 6% / 55%) get x2 and
  x5, where aiming at 25% alone would leave type 1 at x1.
- `upsample: <int>`: one fixed factor for both types (1 turns upsampling off).

Factors count questions, not examples: a repeated question repeats all of its targets.
"""

from __future__ import annotations

from md.errors import MDError


def auto_factor(n_rare: int, n_common: int, target_share: float, max_factor: int) -> int:
    """The integer factor f that puts n_rare * f closest to target_share of the kept questions,
    at least 2 while the type is rarer than type 3 (and at most max_factor).

    Both rare types aim at the same share s, so each should reach s / (1 - 2 s) * n_common.
    """
    if n_rare == 0 or n_rare >= n_common:  # nothing to repeat, or not rare: leave it
        return 1
    want = target_share / (1.0 - 2.0 * target_share) * n_common
    return max(min(2, max_factor), min(max_factor, round(want / n_rare)))


def factors(
    counts: dict[int, int], upsample: int | str, target_share: float = 0.25, max_factor: int = 10
) -> dict[int, int]:
    """Repeat factor per type (1-3; type 4 is dropped) from the per-type question counts."""
    if not 0.0 < target_share < 0.5:
        raise MDError(f"mix.target_share={target_share} must be in (0, 0.5): two rare types share it")
    if isinstance(upsample, str) and upsample.strip().lower() == "auto":
        n3 = counts.get(3, 0)
        f1 = auto_factor(counts.get(1, 0), n3, target_share, max_factor)
        f2 = auto_factor(counts.get(2, 0), n3, target_share, max_factor)
        return {1: f1, 2: f2, 3: 1}
    try:
        fixed = int(upsample)
    except (TypeError, ValueError):
        raise MDError(f"mix.upsample={upsample!r}: expected 'auto' or an integer >= 1") from None
    if fixed < 1 or str(fixed) != str(upsample).strip():
        raise MDError(f"mix.upsample={upsample!r}: expected 'auto' or an integer >= 1")
    return {1: fixed, 2: fixed, 3: 1}
