"""Prompt text to token ids, the one way training, evaluation and the HF teacher all use.

A plain prompt is tokenised with the tokenizer's own special tokens (`<s>` for LLaMA). A chat
prompt is first rendered with the tokenizer's chat template, which already writes every special
token the model expects, and is then tokenised WITHOUT adding special tokens again: tokenising
the rendered string the plain way puts a second BOS in front of LLaMA-style templates. Whether a
student's prompts use the template is a student setting (`student.chat_template`), recorded in
md_student.json so that evaluation renders exactly what training rendered.

    ids = prompt_ids(tokenizer, ["Question: ...\\nAnswer: Let's think step by step."], chat=True)
"""

from __future__ import annotations

from collections.abc import Sequence


def render_chat(tokenizer, messages: Sequence[dict[str, str]]) -> str:
    """`messages` as the model's chat template writes them, ending in the assistant's turn."""
    return tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=True)


def prompt_ids(tokenizer, prompts: Sequence[str], chat: bool = False) -> list[list[int]]:
    """Token ids of each prompt: a user turn of the chat template (chat=True), else plain text."""
    if not chat:
        return tokenizer(list(prompts)).input_ids
    texts = [render_chat(tokenizer, [{"role": "user", "content": p}]) for p in prompts]
    return tokenizer(texts, add_special_tokens=False).input_ids


def chat_ids(tokenizer, conversations: Sequence[Sequence[dict[str, str]]]) -> list[list[int]]:
    """Token ids of whole conversations (system + few-shot user turns) rendered by the template."""
    texts = [render_chat(tokenizer, c) for c in conversations]
    return tokenizer(texts, add_special_tokens=False).input_ids


def padded(tokenizer, ids: Sequence[Sequence[int]], device=None) -> dict:
    """input_ids and attention_mask tensors for `generate`, padded on the tokenizer's side."""
    enc = tokenizer.pad({"input_ids": [list(x) for x in ids]}, return_tensors="pt")
    return {k: enc[k].to(device) for k in ("input_ids", "attention_mask")}
