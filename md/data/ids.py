"""Check that a thoughts file belongs to the dataset it is judged against.

A thoughts file extracted for another dataset (or another split) shares no, or only some,
problem ids with the loaded problems; judging it would silently drop or mistype questions.
Both md.stages.execute and md.stages.mix call `check_ids` first and stop with one clear MDError.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from md.errors import MDError


def check_ids(ids: Iterable[str], known: Iterable[str], file: str | Path, examples: int = 3) -> None:
    """Raise MDError naming how many ids of `file` are not in the dataset, with a few examples."""
    known_set = set(known)
    unknown: list[str] = []
    seen: set[str] = set()
    total: set[str] = set()
    for raw in ids:
        pid = raw if isinstance(raw, str) else repr(raw)  # garbage ids must not crash the check
        total.add(pid)
        if pid not in known_set and pid not in seen:
            seen.add(pid)
            unknown.append(pid)
    if not unknown:
        return
    shown = ", ".join(repr(p) for p in unknown[:examples])
    more = f" (and {len(unknown) - examples} more)" if len(unknown) > examples else ""
    sample_known = ", ".join(repr(p) for p in sorted(known_set)[:2]) or "none"
    raise MDError(
        f"{file}: {len(unknown)} of {len(total)} problem ids are not in the dataset "
        f"({len(known_set)} problems, e.g. {sample_known}): {shown}{more}. "
        "The thoughts were extracted for another dataset or split; check data=... or re-run "
        "md.extract for this dataset."
    )
