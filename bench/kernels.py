"""From-scratch kernels against the same computation in torch on the CPU (used by bench/run.py).

Each entry times one step of the library's NumPy code and the equivalent torch code on the same data,
median of repeated runs after a warm-up. The design budget is "within 2x of torch".
"""

from __future__ import annotations

import time

import numpy as np
import torch

from lessons_lib.layers import SGD, SoftmaxCrossEntropy, mlp


def median_ms(step, runs: int = 50, warmup: int = 10) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def mlp_training_step() -> dict:
    """One SGD step (forward, backward, update) of a 784-256-10 ReLU MLP, batch 256, float32."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=256)
    net, loss_fn = mlp([784, 256, 10], rng=0), SoftmaxCrossEntropy()
    opt = SGD(net.parameters(), lr=0.01)

    def scratch():
        opt.zero_grad()
        loss_fn.forward(net.forward(X), y)
        net.backward(loss_fn.backward(), input_grad=False)  # torch skips dL/dx for data too
        opt.step()

    tnet = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    topt = torch.optim.SGD(tnet.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def reference():
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tnet(Xt), yt).backward()
        topt.step()

    s, t = median_ms(scratch), median_ms(reference)
    return {"name": "MLP training step 784-256-10, batch 256 (NumPy layers vs torch)", "scratch_ms": s, "torch_ms": t,
            "ratio": s / t}


KERNELS = [mlp_training_step]


def run() -> list[dict]:
    return [kernel() for kernel in KERNELS]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['scratch_ms']:.2f} ms vs {row['torch_ms']:.2f} ms = {row['ratio']:.2f}x")
