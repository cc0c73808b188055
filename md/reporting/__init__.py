"""Paper-style tables and plots from a set of runs (local folders or W&B): see md.report."""
