"""Students: one builder (`build_student`) for tiny, hub, local and wheel-shipped (GGUF,
md.models.packaged) models, full, LoRA and QLoRA; md.models.prompting turns prompts into ids
(plain or through the chat template) for training and inference alike."""

from md.models.builder import Student, build_student
from md.models.saved import save_student

__all__ = ["Student", "build_student", "save_student"]
