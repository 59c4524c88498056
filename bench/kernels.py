"""From-scratch kernels against the same computation in torch on the CPU (used by bench/run.py).

Each entry times one step of the library's NumPy code and the equivalent torch code on the same data,
median of repeated runs after a warm-up. The design budget is "within 2x of torch".
"""

from __future__ import annotations

import time

import numpy as np
import torch

from lessons_lib.scratch.layers import GradientDescent, SoftmaxCrossEntropy, mlp


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
    """One GradientDescent step (forward, backward, update) of a 784-256-10 ReLU MLP, batch 256, float32."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=256)
    net, loss_fn = mlp([784, 256, 10], rng=0), SoftmaxCrossEntropy()
    opt = GradientDescent(net.parameters(), lr=0.01)

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


def _conv_layer():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, 16, 16, generator=g)
    return x, torch.randn(64, 32, 3, 3, generator=g) * 0.1, torch.randn(64, generator=g)


def conv2d_im2col() -> dict:
    """functional.conv2d (im2col and one matrix product) against F.conv2d: batch 64, 32 -> 64 channels,
    16x16, 3x3, padding 1, forward, float32 torch tensors on the CPU."""
    from lessons_lib.functional.conv import conv2d

    x, w, b = _conv_layer()
    with torch.no_grad():
        s = median_ms(lambda: conv2d(x, w, b, padding=1), runs=20, warmup=3)
        t = median_ms(lambda: torch.nn.functional.conv2d(x, w, b, padding=1), runs=20, warmup=3)
    return {"name": "conv2d 64x32x16x16, 3x3 to 64 channels (im2col vs F.conv2d)", "scratch_ms": s, "torch_ms": t,
            "ratio": s / t}


def conv2d_loop() -> dict:
    """The same layer as a loop over output pixels (one window times all kernels at a time): why im2col."""
    x, w, b = _conv_layer()
    xp = torch.nn.functional.pad(x, (1, 1, 1, 1))
    kernels = w.reshape(64, -1)

    def loop():
        out = torch.empty(64, 64, 16, 16)
        for i in range(16):
            for j in range(16):
                out[:, :, i, j] = xp[:, :, i:i + 3, j:j + 3].reshape(64, -1) @ kernels.T + b
        return out

    with torch.no_grad():
        torch.testing.assert_close(loop(), torch.nn.functional.conv2d(x, w, b, padding=1), rtol=1e-4, atol=1e-4)
        s = median_ms(loop, runs=5, warmup=1)
        t = median_ms(lambda: torch.nn.functional.conv2d(x, w, b, padding=1), runs=20, warmup=3)
    return {"name": "the same conv2d as a loop over the 16x16 output pixels (vs F.conv2d)", "scratch_ms": s,
            "torch_ms": t, "ratio": s / t, "budget": False}  # no budget: it shows what im2col saves


KERNELS = [mlp_training_step, conv2d_im2col, conv2d_loop]


def digits_training() -> list[dict]:
    """Seconds of training until the 8x8-digits MLP first reaches its accuracy goal on the test split.

    torch: 64-128-64-10, Adam lr 3e-3, evaluated after every epoch, goal 97% (issue: under 2 s).
    NumPy (Part I finale): lessons_lib.scratch.layers MLP 64-256-10 with GradientDescent, goal 95%.
    """
    from lessons_lib.data.real import load
    from lessons_lib.data.splits import split
    from lessons_lib.functional.metrics import output_accuracy
    from lessons_lib.scratch.fit import fit as np_fit
    from lessons_lib.scratch.layers import SoftmaxCrossEntropy

    t = load("digits")
    s = split(t.X / 16.0, t.y, seed=0, stratify=True)
    rows = []

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    Xtr, ytr = torch.tensor(s.X_train, dtype=torch.float32), torch.tensor(s.y_train)
    Xte, yte = torch.tensor(s.X_test, dtype=torch.float32), torch.tensor(s.y_test)
    gen = torch.Generator().manual_seed(0)
    elapsed, acc, epochs = 0.0, 0.0, 0
    while acc < 0.97 and epochs < 100:
        t0 = time.perf_counter()
        for idx in torch.randperm(len(Xtr), generator=gen).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xtr[idx]), ytr[idx]).backward()
            opt.step()
        elapsed += time.perf_counter() - t0
        epochs += 1
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
    rows.append({"name": "torch MLP 64-128-64-10 (Adam) to 97% test accuracy", "seconds": elapsed, "epochs": epochs,
                 "accuracy": acc, "budget_s": 2.0})

    net = mlp([64, 256, 10], rng=0)
    elapsed, acc, epochs = 0.0, 0.0, 0
    rng = np.random.default_rng(0)
    while acc < 0.95 and epochs < 100:
        t0 = time.perf_counter()
        np_fit(net, SoftmaxCrossEntropy(), s.X_train, s.y_train, lr=0.2, epochs=1, batch_size=32, rng=rng)
        elapsed += time.perf_counter() - t0
        epochs += 1
        acc = output_accuracy(s.y_test, net.forward(s.X_test))
    rows.append({"name": "NumPy MLP 64-256-10 (GradientDescent, Part I finale) to 95% test accuracy", "seconds": elapsed,
                 "epochs": epochs, "accuracy": acc, "budget_s": 10.0})
    return rows


def mnist1d_training() -> list[dict]:
    """MNIST-1D's ConvBase (5,210 parameters) trained as the mnist1d repo does (Adam lr 1e-2, batches of 100
    drawn at random from the 4,000 training signals), test accuracy checked every 100 steps, goal 93%."""
    from lessons_lib.data.mnist import mnist1d
    from lessons_lib.models.cnn import MNIST1DConvBase

    s = mnist1d()
    X = torch.tensor(np.vstack([s.X_train, s.X_val]), dtype=torch.float32)
    y = torch.tensor(np.r_[s.y_train, s.y_val])
    Xt, yt = torch.tensor(s.X_test, dtype=torch.float32), torch.tensor(s.y_test)
    torch.manual_seed(0)
    model = MNIST1DConvBase()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    elapsed, steps, acc = 0.0, 0, 0.0
    while acc < 0.93 and steps < 6000:
        t0 = time.perf_counter()
        for _ in range(100):
            idx = torch.randint(len(X), (100,), generator=gen)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
        elapsed += time.perf_counter() - t0
        steps += 100
        with torch.no_grad():
            acc = (model(Xt).argmax(1) == yt).float().mean().item()
    return [{"name": f"MNIST-1D ConvBase (Adam, batch 100) to 93% test accuracy ({steps} steps)", "seconds": elapsed,
             "epochs": round(steps * 100 / len(X), 1), "accuracy": acc, "budget_s": 10.0}]


def run() -> list[dict]:
    return [kernel() for kernel in KERNELS]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['scratch_ms']:.2f} ms vs {row['torch_ms']:.2f} ms = {row['ratio']:.2f}x")
    for row in digits_training() + mnist1d_training():
        print(f"{row['name']}: {row['seconds']:.2f} s, {row['epochs']} epochs, accuracy {row['accuracy']:.3f}")
