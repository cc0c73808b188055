"""Experiment loggers of a job: W&B (online when you are logged in), CSV, or none.

Every builder takes the same flat arguments, so `conf/logger/*.yaml` only picks one:

    logger = wandb_logger(save_dir="runs/x", group="table2", tags=["student=tiny-llama"],
                          config={"loss.lambda": 0.5}, mode="offline")
    try: ... trainer.fit(...) ...
    finally: finish(logger, failed=...)   # always: a failed sweep job leaks no wandb process

The W&B mode follows W&B's own rules (`resolve_mode`): logged in and the server reachable,
online; otherwise offline, with one line saying why, and the run lands in
`<run dir>/wandb/offline-run-*` for a later `wandb sync`. One job is one W&B run: md.train
trains and evaluates into the same run. The group is the experiment name, the name is the job's
overrides, and the tags are the ablation axes with the student as one family tag and one size
tag (`family:codellama`, `size:7b`, whichever alias chose it), so the W&B UI lines up a table's
runs and says what differs between them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from md.errors import MDError

MODES = ("offline", "online", "disabled")


def wandb_logger(save_dir: str, *, project: str | None = None, entity: str | None = None,
                 mode: str | None = None, name: str | None = None, group: str | None = None,
                 job_type: str | None = None, tags: Sequence[str] = (),
                 config: dict[str, Any] | None = None, run_id: str | None = None):
    """A Lightning WandbLogger writing under `save_dir/wandb`, with the flat config logged.

    group (the experiment) and job_type (the stage) let a W&B dashboard line up ablations.
    project, entity and mode left None come from WANDB_PROJECT, WANDB_ENTITY and WANDB_MODE,
    as wandb users expect, and else W&B's rules (`resolve_mode`). run_id: the job's W&B run,
    resumed when it exists (a requeued or rerun job continues its run: one run per job).
    """
    project = project or os.environ.get("WANDB_PROJECT") or "md"
    entity = entity or os.environ.get("WANDB_ENTITY") or None
    mode = resolve_mode(mode, save_dir)
    from lightning.pytorch.loggers import WandbLogger

    Path(save_dir).mkdir(parents=True, exist_ok=True)
    resume = {"id": run_id, "resume": "allow"} if run_id else {}
    logger = WandbLogger(project=project, entity=entity, name=name, save_dir=str(save_dir),
                         offline=mode == "offline", mode=mode, group=group,
                         job_type=job_type, tags=[t[:64] for t in tags], log_model=False,
                         **resume)  # W&B caps tags at 64 chars
    if config:
        logger.log_hyperparams(config)
    return logger


def resolve_mode(mode: str | None, where: str | Path = "runs") -> str:
    """The W&B mode, by W&B's own rules, decided once per process.

    logger.mode if set, else WANDB_MODE ("dryrun" is wandb's old offline); else online when you
    are logged in (WANDB_API_KEY or `wandb login`) and the server answers and accepts the key,
    offline otherwise, with one line saying why and how to upload later. The check takes at most
    a few seconds: an API key without network never hangs a run (wandb itself retries ~100 s).
    """
    chosen = mode or os.environ.get("WANDB_MODE")
    if chosen:
        chosen = "offline" if chosen == "dryrun" else chosen
        if chosen not in MODES:
            source = "logger.mode" if mode else "WANDB_MODE"
            raise MDError(f"{source}={chosen!r}; expected one of {', '.join(MODES)}")
        return chosen
    base, key = wandb_server()
    if (base, key) not in _DECIDED:
        online, why = (False, "not logged in (no WANDB_API_KEY, no `wandb login`)") if not key \
            else probe_server(base, key)
        if not online:
            print(f"W&B: {why}: logging offline under {where}; upload later with "
                  f"`find {where} -type d -name 'offline-run-*' -exec wandb sync {{}} +`",
                  file=sys.stderr)
        _DECIDED[(base, key)] = "online" if online else "offline"
    return _DECIDED[(base, key)]


_DECIDED: dict[tuple[str, str | None], str] = {}
PROBE_TIMEOUT_S = 4.0


def wandb_server() -> tuple[str, str | None]:
    """(W&B server URL, API key or None), as wandb finds them: WANDB_BASE_URL / WANDB_API_KEY,
    else the `wandb login` entry in ~/.netrc."""
    base = (os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai").rstrip("/")
    key = os.environ.get("WANDB_API_KEY")
    if not key:
        import netrc
        from urllib.parse import urlparse

        try:
            entry = netrc.netrc(os.environ.get("NETRC")).authenticators(urlparse(base).hostname or "")
        except (OSError, netrc.NetrcParseError):
            entry = None
        key = entry[2] if entry else None
    return base, key or None


def probe_server(base: str, key: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """(True, "") when the W&B server at `base` answers and accepts `key` (a GraphQL `viewer`
    query), else (False, why)."""
    import base64
    import json
    import urllib.error
    import urllib.request

    auth = base64.b64encode(f"api:{key}".encode()).decode()
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": "{ viewer { id } }"}).encode(),
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            viewer = (json.loads(response.read() or b"{}").get("data") or {}).get("viewer")
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            return False, f"{base} refused the API key (HTTP {e.code}); run `wandb login` again"
        return False, f"{base} answered HTTP {e.code}"
    except (OSError, ValueError) as e:  # no network, refused, timed out, not JSON
        reason = getattr(e, "reason", None) or e
        return False, f"cannot reach {base} ({str(reason).splitlines()[0] if str(reason) else type(e).__name__})"
    if not viewer:
        return False, f"{base} does not accept the API key; run `wandb login` again"
    return True, ""


def job_run_id(run_dir: str | Path) -> str:
    """The W&B run id of the job in `run_dir`, made once and kept in `run_dir/wandb_run_id`, so a
    rerun or requeued job logs into the same W&B run instead of a second one."""
    import secrets

    path = Path(run_dir) / "wandb_run_id"
    try:
        found = path.read_text().strip()
    except OSError:
        found = ""
    if found:
        return found
    from md.fsio import write_text

    made = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    write_text(path, made + "\n")
    return made


def run_name(overrides: Sequence[str], swept: Sequence[str], stage: str) -> str:
    """A W&B run name that says what differs: the stage, then the job's overrides with the swept
    keys first (`train: loss.lambda=0.25,student=codellama`), paths and Hydra's keys left out.
    W&B shows 128 characters; the full list is in the run's config (`overrides`)."""
    shown = [o for o in overrides if not o.lstrip("+~").startswith(("hydra", "paths."))]
    key = [o.split("=", 1)[0].lstrip("+~") for o in shown]
    first = [o for o, k in zip(shown, key, strict=True) if k in swept]
    rest = [o for o, k in zip(shown, key, strict=True) if k not in swept]
    return f"{stage}: {','.join(first + rest) or 'defaults'}"[:128]


def csv_logger(save_dir: str, name: str = "csv", group: str | None = None,
               job_type: str | None = None, tags: Sequence[str] = (),
               config: dict[str, Any] | None = None):
    """A Lightning CSVLogger: `save_dir/<name>/version_N/metrics.csv` and `hparams.yaml`."""
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(save_dir=str(save_dir), name=name)
    if config:
        logger.log_hyperparams({**config, "group": group, "job_type": job_type, "tags": list(tags)})
    return logger


def no_logger(save_dir: str | None = None, group: str | None = None,
              job_type: str | None = None, tags: Sequence[str] = (),
              config: dict[str, Any] | None = None) -> None:
    """No experiment logging (metrics still come back from `md.stages.train.run`)."""
    return None


def ablation_tags(choices: dict[str, Any], lam: float | None, student: str | None = None,
                  seed: int | None = None) -> list[str]:
    """Tags for the ablation axes: the student's family and size (from its name, so aliases tag
    alike), data, mix, loss, λ (when the loss fixes one) and the seed, as `axis:value`
    (wandb-workspaces' filter parser turns an `=` inside a quoted tag into `==`, so a Report
    could not filter on `mix=md`)."""
    tags = []
    if student:
        family, size = model_family(student)
        tags += [f"family:{family}"] + ([f"size:{size}"] if size else [])
    tags += [f"{axis}:{choices[axis]}" for axis in ("data", "mix", "loss") if choices.get(axis)]
    if lam is not None:
        tags.append(f"lambda:{float(lam):g}")
    if seed is not None:
        tags.append(f"seed:{seed}")
    return tags


SIZE = re.compile(r"^(\d+(\.\d+)?[kmbt]|tiny|small|base|medium|large|xl|xxl)$", re.IGNORECASE)


def model_family(name: str) -> tuple[str, str | None]:
    """(family, size) of a student name: "codellama-7b" -> ("codellama", "7b"), "tiny-llama" ->
    ("llama", "tiny"), "qwen2.5-1.5b" -> ("qwen2.5", "1.5b"), "gpt2-large" -> ("gpt2", "large");
    a hub id's organisation is dropped ("meta-llama/Llama-2-7b-hf" -> ("llama-2", "7b"))."""
    parts = name.rsplit("/", 1)[-1].lower().split("-")
    sizes = [p for p in parts if SIZE.match(p)]
    family = "-".join(p for p in parts if not SIZE.match(p) and p not in ("hf", "instruct", "chat"))
    return family or name.lower(), sizes[0] if sizes else None


def wandb_run_of(logger: Any) -> Any:
    """The W&B run behind a WandbLogger (for tables and images), else None."""
    if type(logger).__name__ != "WandbLogger":
        return None
    return logger.experiment


def finish(logger: Any, failed: bool = False) -> None:
    """Close the logger; end any W&B run (exit code 1 on failure) so nothing is left running."""
    if logger is not None:
        logger.finalize("failed" if failed else "success")
    wandb = sys.modules.get("wandb")  # never import wandb just to close it
    if wandb is not None and wandb.run is not None:
        wandb.finish(exit_code=1 if failed else 0)
