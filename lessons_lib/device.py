"""The book's one device, thread and seeding policy.

Every tensor and model in the book is placed with :func:`get_device`, so a notebook runs unchanged on a
CPU, an NVIDIA GPU (CUDA) or an Apple GPU (MPS).

Environment variables (all optional):

``LESSONS_DEVICE``
    ``auto`` (default: cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
``LESSONS_THREADS``
    Number of torch CPU threads. The test and build commands set it to 1 when notebooks run in parallel,
    because two processes with two threads each oversubscribe a 2-core laptop and slow training 4x.
"""

from __future__ import annotations

import os
import random
import re

import numpy as np

DEVICE_ENV = "LESSONS_DEVICE"
THREADS_ENV = "LESSONS_THREADS"
STATIC_ENV = "LESSONS_STATIC"  # set by `make book` and the tests: experiments are precomputed
VALID_DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def _torch():
    import torch  # imported lazily: NumPy-only chapters should not pay torch's 1.4 s import

    return torch


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(name: str | None = None):
    """Return the ``torch.device`` the book uses.

    ``name`` overrides the environment variable ``LESSONS_DEVICE``; both accept ``auto``, ``cpu``,
    ``cuda``, ``cuda:N`` and ``mps``. ``auto`` picks CUDA if available, else MPS, else the CPU. Asking for
    a device this machine does not have is an error rather than a silent fallback.
    """
    torch = _torch()
    requested = name if name is not None else os.environ.get(DEVICE_ENV, "auto")
    choice = str(requested).strip().lower()
    source = "get_device(name=...)" if name is not None else f"the environment variable {DEVICE_ENV}"
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available(torch):
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "mps":
        if not _mps_available(torch):
            raise RuntimeError(f"{source} asks for 'mps' but this machine has no Apple GPU available; use 'auto' or 'cpu'")
        return torch.device("mps")
    if re.fullmatch(r"cuda(:\d+)?", choice):
        if not torch.cuda.is_available():
            raise RuntimeError(f"{source} asks for {choice!r} but CUDA is not available here; use 'auto' or 'cpu'")
        index = int(choice.split(":")[1]) if ":" in choice else 0
        if index >= torch.cuda.device_count():
            raise RuntimeError(f"{source} asks for {choice!r} but only {torch.cuda.device_count()} CUDA device(s) exist")
        return torch.device(choice)
    raise ValueError(f"{source} is {requested!r}; expected one of {', '.join(VALID_DEVICES)}")


def set_threads(n: int | None = None) -> int:
    """Set the number of CPU threads for torch and for NumPy/scikit-learn's BLAS, and return it.

    ``n`` defaults to ``LESSONS_THREADS`` when set, otherwise torch's own default is kept.
    """
    torch = _torch()
    if n is None:
        raw = os.environ.get(THREADS_ENV)
        if raw is None or raw.strip() == "":
            return torch.get_num_threads()
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"the environment variable {THREADS_ENV} is {raw!r}; expected a positive integer") from None
        source = f"the environment variable {THREADS_ENV}"
    else:
        source = "set_threads(n)"
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{source} is {n!r}; expected a positive integer")
    torch.set_num_threads(n)
    try:  # NumPy's and scikit-learn's BLAS/OpenMP pools oversubscribe the cores just like torch's
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # threadpoolctl comes with scikit-learn; without it only torch is limited
        pass
    return n


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: pass it (or generators derived from
    it) explicitly wherever data is shuffled, rather than relying on global state.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed_everything: seed is {seed!r}; expected a non-negative integer")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = _torch()
    torch.manual_seed(seed)  # also seeds every CUDA device
    return np.random.default_rng(seed)


def to_device(*arrays, device=None, dtype=None):
    """Turn NumPy arrays (or tensors) into torch tensors on the book's device.

    Floating arrays become ``float32`` unless ``dtype`` says otherwise; integer arrays keep ``int64`` (labels).
    Returns one tensor for one argument, else a tuple.
    """
    torch = _torch()
    device = get_device() if device is None else device
    out = []
    for a in arrays:
        t = torch.as_tensor(a)
        if dtype is not None:
            t = t.to(dtype)
        elif t.is_floating_point():
            t = t.to(torch.float32)
        out.append(t.to(device))
    return out[0] if len(out) == 1 else tuple(out)


def is_static() -> bool:
    """True when experiments must be precomputed: the book build, tests, or no IPython kernel."""
    if os.environ.get(STATIC_ENV, "").strip() not in ("", "0"):
        return True
    return not _in_kernel()


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})
