"""From the command line to settings: the only package that reads a composed config.

    cli.py        the Hydra wrapper of every entry point: compose, check, one-line errors
    checks.py     composition checks of every job before Hydra starts (keys, knobs, folders)
    targets.py    `_target_` nodes: their builders' signatures are the schema; build, flatten
    groups.py     each config group, once, into its settings dataclass (md.settings)
    builders.py   what an entry point builds from the config: problems, teacher, loggers
    wiring.py     plan(cfg) -> md.pipeline.Plan, evaluation(cfg) -> EvaluationSetup
    preflight.py  what needs the world (data files, key, server, weights), before any spend

Below this package nothing sees a DictConfig, and nothing but the entry points imports it: the
layers below take md.settings' frozen dataclasses, a leaf beside md.types
(tests/test_architecture.py holds that).
"""
