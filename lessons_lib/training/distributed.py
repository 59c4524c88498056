"""Data-parallel training with ``torch.distributed`` on CPU processes (appendix I).

Data parallelism keeps one full copy of the model in every process (a *rank*) and gives each rank its own slice of
every mini-batch. Each rank computes the gradient of the loss on its slice; ``DistributedDataParallel`` then
*all-reduces* the gradients (sums them across ranks and divides by the number of ranks) during ``backward()``, so
every rank holds the same averaged gradient, takes the same optimizer step and stays identical to the others.
With equal slices and a loss that is a mean over examples, the average of the slice gradients is exactly the
full-batch gradient: W ranks with B/W examples each compute what one process computes with B examples.

:func:`train_data_parallel` runs that for real: it spawns ``world_size`` processes on this machine that talk over
the ``gloo`` backend (the CPU one; NCCL is the GPU one) on 127.0.0.1, and returns what every rank saw, so a notebook
can compare it with :func:`train_full_batch`, the single-process run on the whole batch. Spawned processes import
this module to find the worker, which is why it lives in the library and not in a notebook cell; results come back
as plain Python lists, because tensors sent from a process that has already exited cannot be read.
"""

from __future__ import annotations

import datetime
import os
import pickle
import queue
import socket
import time
from collections.abc import Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

__all__ = ["free_port", "shard", "train_data_parallel", "train_full_batch"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody is listening on right now (for the ranks' rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shard(X: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s contiguous slice of the rows of ``X`` (N, ...) -> (N / world_size, ...).

    The rows must split evenly: with unequal slices the average of the slice gradients is no longer the full-batch
    gradient (each slice's mean would weigh its examples differently)."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"shard: rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
    if X.shape[0] % world_size:
        raise ValueError(f"shard: {X.shape[0]} rows do not split evenly over world_size={world_size} ranks; "
                         "drop or pad examples so every rank gets the same number")
    per_rank = X.shape[0] // world_size
    return X[rank * per_rank:(rank + 1) * per_rank]


def _gradients(model) -> list[list[float]]:
    return [p.grad.detach().flatten().tolist() for p in model.parameters()]


def _parameters(model) -> list[list[float]]:
    return [p.detach().flatten().tolist() for p in model.parameters()]


def train_full_batch(make_model: Callable, X, y, *, loss_fn: Callable, steps: int = 1, lr: float = 0.1,
                     seed: int = 0) -> dict:
    """The reference: one process, the whole batch, plain SGD for ``steps`` steps.

    Returns ``{"gradients": [per step: per parameter: flat list], "parameters": final flat lists, "losses": [...]}``
    (the same layout as each rank's entry in :func:`train_data_parallel`)."""
    torch.manual_seed(seed)
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    gradients, losses = [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        gradients.append(_gradients(model))
        losses.append(loss.item())
        optimizer.step()
    return {"gradients": gradients, "parameters": _parameters(model), "losses": losses}


def _worker(rank, world_size, port, make_model, X, y, loss_fn, steps, lr, seed, timeout, results):
    """One rank: join the group, wrap the model in DDP, train on this rank's slice, report, leave."""
    torch.set_num_threads(1)                      # two ranks on two cores: one thread each, or they fight
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=timeout))
    try:
        torch.manual_seed(seed + rank)            # a different init on purpose: DDP broadcasts rank 0's weights
        model = DistributedDataParallel(make_model())
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        X_rank, y_rank = shard(X, rank, world_size), shard(y, rank, world_size)
        gradients, losses = [], []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(X_rank), y_rank)
            loss.backward()                       # DDP all-reduces (averages) the gradients here
            gradients.append(_gradients(model.module))
            losses.append(loss.item())
            optimizer.step()
        results.put((rank, {"gradients": gradients, "parameters": _parameters(model.module), "losses": losses,
                            "examples": int(X_rank.shape[0])}))
    finally:
        dist.destroy_process_group()


def train_data_parallel(make_model: Callable, X, y, *, loss_fn: Callable, world_size: int = 2, steps: int = 1,
                        lr: float = 0.1, seed: int = 0, timeout: float = 120.0) -> list[dict]:
    """Train ``make_model()`` with DistributedDataParallel on ``world_size`` CPU processes; returns one dict per
    rank (in rank order) with the gradients it held after each all-reduce, its final parameters, its local losses and
    its number of examples.

    ``make_model``, ``loss_fn`` and the tensors are pickled into the spawned processes, so they must be importable
    (a class such as ``torch.nn.Linear`` with ``functools.partial``, a module-level function, ``F.mse_loss``), not a
    lambda or a function defined in a notebook. Every wait is bounded by ``timeout`` seconds: a rank that dies or
    hangs raises ``TimeoutError`` or ``RuntimeError`` here, never a hang."""
    if not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"train_data_parallel: world_size must be a positive integer, got {world_size!r}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"train_data_parallel: X has {X.shape[0]} rows but y has {y.shape[0]}")
    shard(X, 0, world_size)                       # the even-split check, before any process is started
    for name, obj in (("make_model", make_model), ("loss_fn", loss_fn)):
        try:
            pickle.dumps(obj)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise TypeError(f"train_data_parallel: {name} must be importable by the spawned processes (a class, "
                            f"functools.partial of one, or a function in a module), got {obj!r}: {error}") from None
    context = mp.get_context("spawn")
    results = context.Queue()
    args = (world_size, free_port(), make_model, X, y, loss_fn, steps, lr, seed, timeout, results)
    processes = mp.start_processes(_worker, args=args, nprocs=world_size, join=False, start_method="spawn")
    collected, deadline = {}, time.monotonic() + timeout
    try:
        while len(collected) < world_size:
            try:
                rank, result = results.get(timeout=0.2)
                collected[rank] = result
                continue
            except queue.Empty:
                pass
            # join(0) raises (with the rank's traceback) as soon as a rank has failed, so a crash is reported at
            # once rather than after the timeout; it returns True when every rank has exited.
            if processes.join(timeout=0) and results.empty():
                raise RuntimeError(f"train_data_parallel: the ranks exited but {world_size - len(collected)} "
                                   "sent no result")
            if time.monotonic() > deadline:
                raise TimeoutError(f"train_data_parallel: no result from {world_size - len(collected)} rank(s) "
                                   f"within {timeout} s")
        while not processes.join(timeout=0.2):    # True once every rank has exited; raises if one failed
            if time.monotonic() > deadline:
                raise TimeoutError(f"train_data_parallel: the ranks did not exit within {timeout} s")
    finally:
        for p in processes.processes:
            if p.is_alive():
                p.kill()
    return [collected[r] for r in range(world_size)]
