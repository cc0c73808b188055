"""md: Mixed Distillation (python -m md.<stage>; see the README)."""

import importlib.metadata

try:
    __version__ = importlib.metadata.version("mixed-distillation")
except importlib.metadata.PackageNotFoundError:  # a checkout on the path, not installed
    __version__ = "0.2.0+source"
