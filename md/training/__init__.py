"""Training a student: the MD loss (loss.py), batches of mixed examples (batching.py), the
Lightning module and trainer (module.py), checkpoints that are never trusted when torn
(checkpoints.py) and FSDP for students too large for one GPU (fsdp.py). md.stages.train drives
them."""
