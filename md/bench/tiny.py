"""A tiny randomly initialised causal LM and a tokenizer trained in code: nothing from a hub.

Used by the generation benchmark and by the inference/evaluation tests, so both exercise the
real HF `generate` path on a model small enough for a shared 2-core CPU.

    model, tok = tiny_student(hidden=64, layers=2, seed=0)
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from md.prompts import student_input

_CORPUS = [
    student_input("Tom has 3 apples and buys 4 more. How many apples does he have?", "cot"),
    student_input("A shop sold 12 pens on Monday and 7 on Tuesday. How many in all?", "pot"),
    "Tom has 3 + 4 = 7 apples. The answer is 7.",
    "apples = 3\nbought = 4\nans = apples + bought\nprint(ans)",
    "Which day had more rain, Monday or Tuesday? neither day yes no true false",
    "0 1 2 3 4 5 6 7 8 9 + - * / = ( ) . , ? : ' _",
]


def tiny_tokenizer(vocab_size: int = 300) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on a few lines of task text (left padding, eos = pad)."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",  # decoder-only generation appends on the right
    )


def tiny_student(
    hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0
) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    """A randomly initialised Llama of the given size with its tokenizer, in eval mode."""
    tok = tiny_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(config).eval()
    return model, tok
