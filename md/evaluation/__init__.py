"""Evaluation logic behind `python -m md.evaluate`, in small pure modules.

judge (texts -> Paths: CoT parsed, PoT run in the sandbox), methods (+CoT, +PoT, +CoT w/PoT,
cascade, greedy), curves (accuracy vs N with CIs, Table 3 / Fig. 4), adaptive (adaptive
consistency), report (files and W&B).
"""
