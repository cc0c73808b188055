"""MDModule projects to the vocabulary only the positions that predict a label: the loss and
every gradient equal those of the full (B, T, V) logits, on the real decoder architectures."""

from __future__ import annotations

import pytest
import torch

from md.training.batching import collate, encode
from md.training.module import MDModule
from md.types import MixedExample
from tests.models.test_models import tiny

EXAMPLES = [
    MixedExample("q1", "cot", "Question: 3 + 4?\nAnswer: Let's think step by step.",
                 "3 + 4 = 7. The answer is 7.", 0.5, 3),
    MixedExample("q1", "pot", "Question: 3 + 4?\n# Python program:", "ans = 3 + 4", 0.5, 3),
    MixedExample("q2", "cot", "Question: Tom had 12 apples and ate 5. How many are left?\n"
                 "Answer: Let's think step by step.", "12 - 5 = 7. The answer is 7.", 1.0, 2),
]


def _loss_and_grads(module: MDModule, batch: dict):
    module.model.zero_grad(set_to_none=True)
    torch.manual_seed(0)  # the same dropout masks (GPT-2's) in both forward passes
    loss = module._loss(batch).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in module.model.named_parameters() if p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize(("student_id", "finetune"),
                         [("tiny-llama", "lora"), ("tiny-llama", "full"), ("tiny-gpt2", "full")])
def test_labelled_logits_give_the_full_logits_loss_and_gradients(student_id, finetune, tmp_path):
    student = tiny(student_id, tmp_path, finetune=finetune, lora_dropout=0.0)
    items, _ = encode(EXAMPLES, [e.weight for e in EXAMPLES], student.tokenizer, False, 64)
    batch = collate(items, student.tokenizer.pad_token_id, False)
    assert batch["pad_waste"] > 0  # padded rows are part of what is checked
    results = []
    for labelled in (False, True):
        module = MDModule(student.model, False, lr=1e-3, max_steps=1, labelled_logits=labelled)
        results.append(_loss_and_grads(module, batch))
    (full_loss, full_grads), (loss, grads) = results
    assert torch.allclose(loss, full_loss, rtol=1e-5, atol=1e-6)
    assert grads.keys() == full_grads.keys() and grads
    for name, g in grads.items():
        assert torch.allclose(g, full_grads[name], rtol=1e-4, atol=1e-6), name
