"""Is a saved model folder whole? Checked before loading, so a truncated file is one clear line.

A `.safetensors` file is an 8-byte little-endian header length, a JSON header that gives every
tensor's byte range, then the data. A file cut short by a kill or a full disk still opens, and
the loader fails deep inside with a Rust error (or, worse, reads garbage from a sparse file), so
`check_safetensors` compares the header's promise with the file size: reading 8 bytes and the
header, never the weights.

    check_folder("runs/x/student")          # every *.safetensors under it (base/ included)
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from md.errors import MDError

_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


def check_safetensors(file: str | Path) -> None:
    """MDError naming `file` if it is shorter (or longer) than its header says."""
    file = Path(file)
    size = file.stat().st_size
    try:
        with file.open("rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if not 0 < n <= min(_MAX_HEADER, size - 8):
                raise ValueError(f"header length {n} does not fit a {size}-byte file")
            header = json.loads(f.read(n))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"),
                  default=0)
    except (struct.error, ValueError, KeyError, TypeError, IndexError) as e:
        raise MDError(f"{file}: not a readable safetensors file ({e}); it is truncated or "
                      "corrupt: save or copy it again") from None
    if 8 + n + end != size:
        raise MDError(f"{file}: truncated or corrupt ({size} bytes, its header promises "
                      f"{8 + n + end}); save or copy it again")


def check_folder(folder: str | Path) -> None:
    """`check_safetensors` on every weights file of a saved student (and its `base/`)."""
    for file in sorted(Path(folder).rglob("*.safetensors")):
        check_safetensors(file)
