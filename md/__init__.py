"""md: Mixed Distillation (python -m md.<stage>; see the README)."""

import importlib.metadata
from pathlib import Path

# md's Hydra configs: conf/ at the top of a checkout (an editable install, or the checkout on the
# path), which the wheel ships inside the package as md/conf, so an installed md finds them from
# any folder
_HERE = Path(__file__).resolve().parent
CONFIG_DIR = _HERE / "conf" if (_HERE / "conf").is_dir() else _HERE.parent / "conf"

try:
    __version__ = importlib.metadata.version("mixed-distillation")
except importlib.metadata.PackageNotFoundError:  # a checkout on the path, not installed
    __version__ = "0.2.0+source"
