"""Read runs back from the W&B API, as the same `Run` records the local reader makes.

    runs = from_wandb("my-team/md", group="table1")

Every job logs its config flat (`student.name`, `mix.variant`, `loss.lambda`, `seed`, ...) and
its evaluation's accuracies as `eval/<dataset>/<method>` (md.evaluation.outputs.summary_keys), so
a W&B run carries everything a table row needs. wandb is imported only here, only when asked.
"""

from __future__ import annotations

from typing import Any

from md.errors import MDError
from md.reporting.collect import Run
from md.reporting.tables import COLUMN_NAMES

METHODS = (*COLUMN_NAMES, "ensemble")  # accuracy keys; the other eval/<dataset>/ scalars are not


def _api(timeout: int = 20):
    try:
        import wandb
    except ImportError:
        raise MDError("--wandb needs the wandb package: pip install wandb") from None
    try:
        return wandb.Api(timeout=timeout)
    except Exception as e:  # UsageError (no key), AuthenticationError / CommError (no network)
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise MDError(f"--wandb: cannot reach the W&B API ({first}); set WANDB_API_KEY "
                      f"(wandb login) and check the network, or report local run folders") from None


def to_run(name: str, config: dict[str, Any], summary: dict[str, Any]) -> Run | None:
    """A Run from one W&B run's flat config and summary; None when it logged no evaluation."""
    accuracy, datasets = {}, set()
    for key, value in summary.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "eval" and parts[2] in METHODS \
                and isinstance(value, (int, float)):
            accuracy[parts[2]] = float(value)
            datasets.add(parts[1])
    if not accuracy:
        return None
    loss = config.get("loss.mode", "adaptive")
    data = config.get("data.name", "?")
    test = datasets.pop() if len(datasets) == 1 else str(config.get("eval_data.name") or data)
    return Run(folder=name, student=str(config.get("student.name", "?")),
               mix="ensemble" if config.get("inference.ensemble") else str(config.get("mix.variant", "?")),
               loss=str(loss), lam=config.get("loss.lambda") if loss == "fixed" else None,
               train_data=str(data), test_data=test, seed=config.get("seed"),
               train_fraction=float(config.get("data.train_fraction", 1.0)),
               paths=config.get("inference.paths"), experiment=str(config.get("experiment_name", "")),
               accuracy=accuracy)


def from_wandb(path: str, group: str | None = None) -> list[Run]:
    """Every evaluated run of the W&B project `ENTITY/PROJECT` (one group, if given)."""
    if path.count("/") != 1:
        raise MDError(f"--wandb {path!r}: expected ENTITY/PROJECT, e.g. my-team/md")
    api = _api()
    filters = {"group": group} if group else None
    try:
        found = [to_run(f"wandb:{path}/{r.id} ({r.name})", dict(r.config), dict(r.summary))
                 for r in api.runs(path, filters=filters)]
    except Exception as e:
        raise MDError(f"--wandb {path}: listing runs failed ({str(e).splitlines()[0]})") from None
    return [r for r in found if r is not None]
