"""Mixed Distillation."""
