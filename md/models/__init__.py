"""Students: one builder (`build_student`) for tiny, hub, full, LoRA and QLoRA models."""

from md.models.builder import Student, build_student, save_student

__all__ = ["Student", "build_student", "save_student"]
