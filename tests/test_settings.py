"""Each list of allowed choices is written once: the settings classes, the composition checks
and the libraries that act on a choice all name the same tuple (md.settings,
md.teacher.base, md.tracking.loggers, ...), so they cannot drift apart."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

from md import settings
from md.config.checks import KNOBS
from md.settings import AdaptiveSampling

MD = Path(__file__).resolve().parent.parent / "md"
CLASSES = (settings.ExtractSettings, settings.SandboxSettings, settings.MixSettings,
           settings.LossSettings, settings.TrainSettings, settings.CurveSettings,
           settings.StopSettings, settings.InferenceSettings, AdaptiveSampling)


def every_choice_list() -> dict[str, tuple[str, ...]]:
    found = {key: knob.choices for key, knob in KNOBS.items() if knob.choices}
    for cls in CLASSES:
        for f in fields(cls):
            knob = f.metadata.get("knob")
            if knob is not None and knob.choices:
                found[f"{cls.__name__}.{f.name}"] = knob.choices
    return found


def literal_string_collections() -> list[tuple[frozenset[str], str]]:
    """Every tuple, list or set literal of two or more strings in md/, with where it is."""
    out = []
    for file in MD.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) >= 2 and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                out.append((frozenset(e.value for e in node.elts),
                            f"{file.relative_to(MD.parent)}:{node.lineno}"))
    return out


def test_every_choice_list_is_written_once():
    choices = every_choice_list()
    assert len(choices) >= 8  # not vacuous: loss.mode, mix.variant, engine, rules, modes...
    literals = literal_string_collections()
    for name, allowed in choices.items():
        written = [where for values, where in literals if values == frozenset(allowed)]
        assert len(written) == 1, f"the choices of {name} are written {len(written)} times: {written}"
