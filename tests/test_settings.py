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


def test_train_epochs_sets_the_steps_from_the_mix_size():
    from md.settings import TrainSettings

    s = TrainSettings(trainer={"max_steps": 5, "accelerator": "cpu"}, batch_size=8, epochs=2)
    assert s.for_epochs(700).max_steps == 176  # 2 x ceil(700 / 8) batches
    acc = TrainSettings(trainer={"accumulate_grad_batches": 2, "devices": 2}, batch_size=8,
                        epochs=1.5)
    assert acc.for_epochs(700, world=2).max_steps == 33  # ceil(1.5 x 88 / (2 x 2))
    assert acc.for_epochs(700, world=2).epochs is None
