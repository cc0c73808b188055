"""Experiment tracking: the loggers a run writes to (W&B, CSV, none) and the W&B artifacts that
record where a student came from (md.tracking.lineage)."""
