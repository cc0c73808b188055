"""Train a small byte-level BPE tokenizer in code, for the tiny students (no hub download).

Byte-level BPE covers every byte, so no model output or teacher text is ever out of vocabulary.
Digits are split one per token (as in LLaMA), so a tiny student sees "244" as 2, 4, 4 and can
learn digit-wise arithmetic instead of memorising number tokens.

    tok = train_tokenizer(texts, vocab_size=1024, seq2seq=False)
    tok("Question: 1+2").input_ids   # starts with <s> for decoder models

Special ids follow T5's layout (<pad>=0, </s>=1) so the same tokenizer serves T5, whose
decoder starts from the pad id; decoder models get <s> (2) prepended, T5 inputs get </s>.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from md.errors import MDError

PAD, EOS, BOS, UNK = "<pad>", "</s>", "<s>", "<unk>"
SPECIALS = [PAD, EOS, BOS, UNK]  # ids 0, 1, 2, 3


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 1024, seq2seq: bool = False
) -> PreTrainedTokenizerFast:
    """A byte-level BPE with single-digit tokens trained on `texts`.

    Decoder models: `tok(text)` is `<s> text`; encoder-decoder models: `text </s>`.
    """
    texts = [t for t in texts if t]
    if not texts:
        raise MDError("cannot train a tokenizer for a tiny student: no training texts were given")
    if vocab_size < len(SPECIALS) + 256:
        raise MDError(f"student.vocab_size={vocab_size} is too small; byte-level BPE needs >= 260")
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    template = "$A </s>" if seq2seq else "<s> $A"
    tok.post_processor = processors.TemplateProcessing(
        single=template,
        pair=template.replace("$A", "$A $B"),
        special_tokens=[(BOS, tok.token_to_id(BOS)), (EOS, tok.token_to_id(EOS))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None if seq2seq else BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
    )
