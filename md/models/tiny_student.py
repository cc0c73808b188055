"""A tiny randomly initialised Llama with its tokenizer, in memory, for benchmarks and tests.

The same builder as a `student.tiny` student (md.models.tiny: digit-splitting byte-level BPE
trained in code, weights seeded), so inference is benchmarked and tested on exactly the kind of
model and tokenizer training produces; only the tokenizer texts are a few fixed task lines.

    model, tok = tiny_student(hidden=64, layers=2, seed=0)
"""

from __future__ import annotations

import tempfile

from transformers import AutoModelForCausalLM, AutoTokenizer

from md.models.tiny import make_tiny_base
from md.prompts import student_input

_CORPUS = [
    student_input("Tom has 3 apples and buys 4 more. How many apples does he have?", "cot"),
    student_input("A shop sold 12 pens on Monday and 7 on Tuesday. How many in all?", "pot"),
    "Tom has 3 + 4 = 7 apples. The answer is 7.",
    "apples = 3\nbought = 4\nans = apples + bought\nprint(ans)",
    "Which day had more rain, Monday or Tuesday? neither day yes no true false",
    "0 1 2 3 4 5 6 7 8 9 + - * / = ( ) . , ? : ' _",
]


def tiny_student(hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0):
    """(model in eval mode, tokenizer): a random Llama of the given size (md.models.tiny)."""
    config = {"model_type": "llama", "hidden_size": hidden, "intermediate_size": hidden * 2,
              "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": heads, "max_position_embeddings": 512}
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_tiny_base(tmp, config, _CORPUS, vocab_size=300, seed=seed)
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        tok = AutoTokenizer.from_pretrained(folder)
    return model, tok
