"""Data parallelism (DDP) when started by ``torchrun`` or ``accelerate launch``.

Both launchers set RANK, WORLD_SIZE and LOCAL_RANK; without them the run is one process
and nothing here does anything. Every rank computes the same micro-batch stream (a pure
function of the seed) and keeps every world_size-th micro-batch, so no sampler state has
to be shared or saved for ``--resume``. Rank 0 alone evaluates, logs and writes files.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, value: float, device: torch.device) -> float:
        """The sum of a number over all ranks (the number itself in a single process)."""
        if not self.enabled:
            return value
        tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
        torch.distributed.all_reduce(tensor)
        return float(tensor)

    def wrap(self, model, device: torch.device):
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    def no_sync(self, wrapped, last_micro_batch: bool):
        """Skip the gradient all-reduce on all but the last micro-batch of a step."""
        return wrapped.no_sync() if self.enabled and not last_micro_batch else nullcontext()

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()


def setup(device: str) -> Dist:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Dist()
    dist = Dist(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not torch.distributed.is_initialized():
        use_cuda = device != "cpu" and torch.cuda.is_available()
        if use_cuda:
            torch.cuda.set_device(dist.local_rank)
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
    return dist
