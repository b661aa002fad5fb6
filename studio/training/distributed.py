"""Distributed training under torchrun: one process per device, gloo on the CPU, nccl on CUDA.

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; with WORLD_SIZE > 1 the CLI calls `init_from_env()`,
the trainer wraps the model in DistributedDataParallel and each rank trains on its shard of every
epoch's permutation (step.epoch_order, the DistributedSampler scheme). Only rank 0 reports and writes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .errors import TrainingError


@dataclass(frozen=True)
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world_size_from_env() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init_from_env(device_name: str) -> DistInfo | None:
    """Join the process group torchrun set up; None when not launched with several processes."""
    import torch.distributed as dist

    world = world_size_from_env()
    if world <= 1:
        return None
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        if not torch.cuda.is_available():
            raise TrainingError(f"--device {device_name} under torchrun needs CUDA GPUs; use --device cpu")
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(rank, local_rank, world, backend)


def wrap_ddp(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    from torch.nn.parallel import DistributedDataParallel as DDP

    if device.type == "cuda":
        return DDP(model, device_ids=[device.index])
    return DDP(model)


def all_reduce_sum(tensor: torch.Tensor) -> None:
    import torch.distributed as dist

    if tensor.device.type == "cpu" or dist.get_backend() != "gloo":
        dist.all_reduce(tensor)
    else:  # gloo on CUDA tensors: reduce a CPU copy
        cpu = tensor.cpu()
        dist.all_reduce(cpu)
        tensor.copy_(cpu)


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
