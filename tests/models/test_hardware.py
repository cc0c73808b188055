"""md.models.hardware: precision, processes and bf16 as the machine has them
(`trainer.precision=auto`, `trainer.devices=-1`, SLURM ranks, GPUs before Ampere)."""

from __future__ import annotations

import pytest

from md.models import hardware
from md.settings import TrainSettings


def test_auto_precision_is_bf16_only_where_the_device_computes_it(monkeypatch):
    assert hardware.auto_precision("32-true") == "32-true"  # explicit settings are kept
    assert hardware.auto_precision("bf16-mixed", "cpu") == "bf16-mixed"
    for flags, expected in ((frozenset({"avx2", "fma"}), "32-true"),
                            (frozenset({"avx2", "avx512f", "avx512_bf16"}), "bf16-mixed"),
                            (frozenset({"avx2", "amx_tile", "amx_bf16"}), "bf16-mixed")):
        monkeypatch.setattr(hardware, "cpu_flags", lambda flags=flags: flags)
        assert hardware.auto_precision("auto", "cpu") == expected, flags
    settings = TrainSettings(trainer={"precision": "auto", "accelerator": "cpu"})
    assert hardware.resolved(settings.trainer_args())["precision"] == "bf16-mixed"  # the last flags set above: AMX
    # reads the real /proc/cpuinfo again
    monkeypatch.undo()
    assert hardware.auto_precision("auto", "cpu") == ("bf16-mixed" if hardware.cpu_bf16() else "32-true")


def test_auto_precision_resolves_before_lightning_sees_it():
    args = TrainSettings(trainer={"precision": "auto", "accelerator": "cpu"}).trainer_args()
    assert args["precision"] == "auto"  # a setting; the machine decides in the caller
    assert hardware.resolved(args)["precision"] in ("32-true", "bf16-mixed")
    with pytest.raises(Exception, match="trainer.precision='fast'"):
        TrainSettings(trainer={"precision": "fast"})


def test_all_visible_gpus_count_as_processes_for_epochs(monkeypatch):
    """trainer.devices=-1 (trainer=ddp) is every visible GPU: 4 of them make an epoch 4x fewer
    optimizer steps, as Lightning's sampler splits each step's batches over the ranks."""
    import torch

    from md.models import hardware

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)  # a 4-GPU node, faked
    assert hardware.world_size(-1, 1, "gpu") == 4
    assert hardware.world_size("auto", 2, "gpu") == 8
    assert hardware.world_size([0, 1], 1, "gpu") == hardware.world_size("0,1", 1, "gpu") == 2
    assert hardware.world_size(2, 1, "cpu") == 2 and hardware.world_size(1) == 1


def test_slurm_jobs_quantise_each_rank_onto_its_own_gpu(monkeypatch):
    """Under srun (hydra/launcher=slurm) no LOCAL_RANK is set: SLURM_LOCALID names the GPU."""
    from md.models.hardware import local_rank

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.delenv("SLURM_LOCALID", raising=False)
    assert local_rank() == 0
    monkeypatch.setenv("SLURM_LOCALID", "3")
    assert local_rank() == 3
    monkeypatch.setenv("LOCAL_RANK", "1")  # torchrun / Lightning's launcher win
    assert local_rank() == 1


def test_gpus_before_ampere_are_not_bf16(monkeypatch):
    """V100 (7.0) and T4 (7.5) emulate bf16 (torch still calls it supported) and vLLM refuses it
    below compute capability 8.0: auto precision is fp32 there, and vLLM samples in fp16."""
    import torch

    from md.models import hardware

    monkeypatch.setattr(hardware, "cuda_available", lambda: True)  # a GPU, faked
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    for capability, native in (((7, 0), False), ((7, 5), False), ((8, 0), True), ((9, 0), True)):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, c=capability: c)
        assert hardware.cuda_bf16() is native
        assert hardware.auto_precision("auto", "gpu") == ("bf16-mixed" if native else "32-true")
        assert hardware.sampling_dtype() == ("bfloat16" if native else "float16")
