"""Training on several processes or machines: torchrun's environment -> one process group, DDP, shards.

    torchrun --standalone --nproc_per_node 2 -m engine.training.adf train --config run.json --out runs/adf1

A process started by torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT in its environment) joins the group of its run: NCCL and the GPU
of its local rank when the machine has CUDA, else gloo on the CPU. Every
process draws the same global batch from the same seeded generator and trains
on its equal slice of it (`Processes.shard`); DDP averages the gradients, so
with losses that are means over equal slices a step is the step one process
takes on the whole batch. Only rank 0 writes the config, the log and the
checkpoints (`Processes.main`; the export is a later one-process command). A
process started without torchrun is a group of one on the CPU, and nothing
changes: every method below is then the identity.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from ..errors import InputError

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Processes:
    """The processes of one training run and this one's place among them (rank of size)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    grouped: bool = False     # a torch.distributed process group is running

    @property
    def main(self) -> bool:
        """True in the one process that writes checkpoints, exports and logs (rank 0)."""
        return self.rank == 0

    def check_split(self, count: int, name: str) -> None:
        """InputError unless `count` items (the config field `name`) split evenly across the processes."""
        if count % self.size:
            raise InputError(f"A '{name}' of {count} cannot be split evenly across {self.size} training "
                             f"processes; make it a multiple of {self.size}.")

    def shard(self, items):
        """This process's slice [n / size, ...] of items [n, ...] (numpy array or tensor), in rank order."""
        if self.size == 1:
            return items
        self.check_split(len(items), "batch")
        step = len(items) // self.size
        return items[self.rank * step:(self.rank + 1) * step]

    def gather(self, shard: torch.Tensor) -> torch.Tensor:
        """Every process's shard [m, ...] concatenated in rank order -> [size m, ...] (the inverse of shard)."""
        if not self.grouped:
            return shard
        parts = [torch.empty_like(shard) for _ in range(self.size)]
        dist.all_gather(parts, shard.contiguous())
        return torch.cat(parts)

    def mean(self, values: dict) -> dict:
        """{name: float} of each process's shard averaged over the processes that report the name (a term
        only some shards have, such as a loss on tracked clips, is the mean of those)."""
        if not self.grouped:
            return values
        reported = [None] * self.size
        dist.all_gather_object(reported, list(values))
        names = list(dict.fromkeys(name for names in reported for name in names))
        sums = torch.tensor([[float(values.get(name, 0.0)), float(name in values)] for name in names],
                            dtype=torch.float64, device=self.device)
        dist.all_reduce(sums)
        return {name: total / count for name, (total, count) in zip(names, sums.tolist())}

    def wrap(self, module: torch.nn.Module, find_unused: bool = False) -> torch.nn.Module:
        """`module` on this process's device, inside DistributedDataParallel when grouped (its gradients
        are then averaged over the processes in backward). Parameters stay those of `module`."""
        module.to(self.device)
        if not self.grouped:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused,
                                                         broadcast_buffers=False)

    def vary_seed(self, seed: int) -> None:
        """Seed torch per process (dropout masks differ between shards) once the model is built alike."""
        if self.size > 1:
            torch.manual_seed(int(seed) + 7919 * self.rank)

    def barrier(self) -> None:
        """Wait until every process gets here (e.g. rank 0's checkpoint is on disk)."""
        if self.grouped:
            dist.barrier()


def started_by_torchrun(environ=None) -> bool:
    """True when the environment holds torchrun's variables (RANK, WORLD_SIZE, ...)."""
    environ = os.environ if environ is None else environ
    return all(name in environ for name in TORCHRUN_VARIABLES)


def join() -> Processes:
    """This process's place in torchrun's group, initialising it (NCCL on GPUs, gloo on CPUs) if needed."""
    rank, size, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    device = torch.device("cpu")
    if torch.cuda.is_available():
        if local >= torch.cuda.device_count():
            raise InputError(f"This machine has {torch.cuda.device_count()} GPUs and torchrun started a process "
                             f"for local rank {local}; pass --nproc_per_node {torch.cuda.device_count()} or fewer.")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method="env://")
    return Processes(rank, size, local, device, grouped=True)


@contextlib.contextmanager
def training_processes():
    """Processes of this run for the length of the block: torchrun's group (left cleanly at the end, on an
    error too, when this block made it), else a group of one on the CPU."""
    if not started_by_torchrun():
        yield Processes()
        return
    made = not dist.is_initialized()
    processes = join()
    try:
        yield processes
    finally:
        if made and dist.is_initialized():
            dist.destroy_process_group()


def with_processes(train):
    """Decorate a training function taking a `processes=None` keyword: it runs inside training_processes()
    unless the caller passes its own Processes."""
    @functools.wraps(train)
    def run(*args, processes: Processes | None = None, **kwargs):
        if processes is not None:
            return train(*args, processes=processes, **kwargs)
        with training_processes() as joined:
            return train(*args, processes=joined, **kwargs)
    return run

