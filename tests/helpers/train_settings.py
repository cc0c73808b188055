"""Tests write a training run's knobs flat, as the YAML groups do (`max_steps=3, batch_size=4`):
`settings(...)` sorts them into md.settings.TrainSettings fields and lightning.Trainer arguments."""

from __future__ import annotations

import dataclasses

from md.settings import TrainSettings

FIELDS = {f.name for f in dataclasses.fields(TrainSettings)} - {"trainer"}


def settings(**knobs) -> TrainSettings:
    own = {k: v for k, v in knobs.items() if k in FIELDS}
    return TrainSettings(trainer={k: v for k, v in knobs.items() if k not in FIELDS}, **own)


def run(examples, student, *, out_dir, logger=None, val_examples=None, ckpt_path=None,
        callbacks=(), lineage=(), **knobs):
    """md.stages.train.run with flat knobs."""
    from md.stages.train import run as train

    return train(examples, student, settings(**knobs), out_dir=out_dir, logger=logger,
                 val_examples=val_examples, ckpt_path=ckpt_path, callbacks=callbacks,
                 lineage=lineage)
