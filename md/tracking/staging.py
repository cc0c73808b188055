"""W&B's staging folder running full costs what was being logged, not the stage.

wandb copies each file it logs as an artifact (the lineage artifacts, the evaluation tables) into
its staging folder under WANDB_DATA_DIR before upload, often on another disk than the run's. By
the time md logs them, what the stage made is on disk already (the student, metrics.json,
predictions.jsonl), so a full disk or a file-size limit there gets one warning that names the
staging folder, and the stage goes on.

    with staged("the lineage artifacts"):
        run.log_artifact(artifact)
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from md.fsio import is_out_of_space


@contextlib.contextmanager
def staged(what: str) -> Iterator[None]:
    """Run the block; an out-of-space error inside it becomes one warning (see the module)."""
    try:
        yield
    except OSError as e:
        if not is_out_of_space(e):
            raise
        print(f"warning: {staging_full(e, what)}", file=sys.stderr)


def staging_full(error: OSError, what: str) -> str:
    """One line. A copy's error names its source first (the student's own file) and the file it
    was writing second: the full folder is the second's."""
    written = Path(error.filename2 or error.filename or ".")
    folder = written.parent
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(probe).free / 1e6
    cause = ("a file-size limit (ulimit -f) stopped" if error.errno == errno.EFBIG
             else f"no space left ({free:,.1f} MB free) stopped")
    return (f"{cause} W&B staging {what} in {folder}: not logged, and the run goes on (what it "
            f"made is saved); free space there or set WANDB_DATA_DIR to a folder on another disk")
