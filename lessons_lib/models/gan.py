"""Generative adversarial networks (Appendix B): two small MLPs, the two players' losses, a training loop, and the
ring of Gaussians used to see mode collapse, with the score that counts the modes a generator covers.

Shapes, batch first: noise ``z`` is ``(N, latent)``, data and samples are ``(N, D)``, the discriminator returns
one logit per row, ``(N,)``. The losses take logits, never probabilities: ``log sigmoid(a) = -softplus(-a)`` and
``log(1 - sigmoid(a)) = -softplus(a)`` stay finite for any logit, where ``log(torch.sigmoid(a))`` is ``-inf`` once
the sigmoid rounds to 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lessons_lib.validate import integer, number, one_of

__all__ = ["Discriminator", "Generator", "discriminator_loss", "generator_loss", "mode_coverage", "ring_of_gaussians",
           "ring_centres", "train_gan"]


def _mlp(sizes, activation, fn):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def _seeded(build, seed, fn):
    """``build()`` with torch's global generator set to ``seed`` for the duration, restored afterwards."""
    if seed is None:
        return build()
    seed = integer(fn, "seed", seed, minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


class Generator(nn.Module):
    """``G: z (N, latent) -> x (N, out)``, an MLP with ``layers`` hidden layers of ``hidden`` ReLU units.

    output: ``"linear"`` (any real value, for 2-D points) or ``"tanh"`` (values in (-1, 1), for images scaled there).
    seed:   if given, the weights are initialised from it without touching torch's global generator.
    """

    def __init__(self, latent: int, hidden: int, out: int, *, layers: int = 2, output: str = "linear",
                 seed: int | None = None):
        super().__init__()
        self.latent = integer("Generator", "latent", latent, minimum=1)
        hidden = integer("Generator", "hidden", hidden, minimum=1)
        self.out = integer("Generator", "out", out, minimum=1)
        layers = integer("Generator", "layers", layers, minimum=1)
        self.output = one_of("Generator", "output", output, ("linear", "tanh"))
        self.net = _seeded(lambda: _mlp([self.latent] + [hidden] * layers + [self.out], nn.ReLU, "Generator"),
                           seed, "Generator")

    def forward(self, z):  # (N, latent) -> (N, out)
        if z.dim() != 2 or z.shape[1] != self.latent:
            raise ValueError(f"Generator: z has shape {tuple(z.shape)}; expected (N, {self.latent})")
        x = self.net(z)
        return torch.tanh(x) if self.output == "tanh" else x


class Discriminator(nn.Module):
    """``D: x (N, in_dim) -> logits (N,)``, an MLP with ``layers`` hidden layers of ``hidden`` LeakyReLU(0.2) units.

    It returns the logit ``a``; the probability that ``x`` is real is ``sigmoid(a)``. No sigmoid inside: the losses
    below work on logits, which is what keeps them finite.
    """

    def __init__(self, in_dim: int, hidden: int, *, layers: int = 2, seed: int | None = None):
        super().__init__()
        self.in_dim = integer("Discriminator", "in_dim", in_dim, minimum=1)
        hidden = integer("Discriminator", "hidden", hidden, minimum=1)
        layers = integer("Discriminator", "layers", layers, minimum=1)
        self.net = _seeded(lambda: _mlp([self.in_dim] + [hidden] * layers + [1], lambda: nn.LeakyReLU(0.2),
                                        "Discriminator"), seed, "Discriminator")

    def forward(self, x):  # (N, in_dim) -> (N,)
        if x.dim() != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"Discriminator: x has shape {tuple(x.shape)}; expected (N, {self.in_dim})")
        return self.net(x).squeeze(1)


def _logits(fn, name, a):
    if not torch.is_tensor(a) or not a.is_floating_point():
        raise TypeError(f"{fn}: {name} must be a floating-point tensor of logits, got {type(a).__name__}")
    if a.dim() != 1:
        raise ValueError(f"{fn}: {name} has shape {tuple(a.shape)}; expected (N,), one logit per example")
    return a


def discriminator_loss(real_logits, fake_logits, *, smooth: float = 0.0):
    """The discriminator's loss, the negative of its objective ``E[log D(x)] + E[log(1 - D(G(z)))]``:

    ``mean softplus(-a_real) + mean softplus(a_fake)``, which is binary cross-entropy with target 1 for real rows
    and 0 for generated ones. ``smooth`` (one-sided label smoothing, Salimans et al. 2016) lowers the real target to
    ``1 - smooth``: BCE(a, t) = t softplus(-a) + (1 - t) softplus(a).
    """
    real_logits = _logits("discriminator_loss", "real_logits", real_logits)
    fake_logits = _logits("discriminator_loss", "fake_logits", fake_logits)
    t = 1.0 - float(number("discriminator_loss", "smooth", smooth, 0, 1, high_open=True))
    real = t * F.softplus(-real_logits) + (1.0 - t) * F.softplus(real_logits)
    return real.mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, saturating: bool = False):
    """The generator's loss on the discriminator's logits for generated rows.

    saturating=True:  the minimax game's own term, minimise ``E[log(1 - D(G(z)))] = -mean softplus(a)``; its
                      gradient vanishes where D confidently rejects the samples (a very negative).
    saturating=False: the non-saturating loss used in practice, minimise ``-E[log D(G(z))] = mean softplus(-a)``;
                      same fixed point, strong gradient exactly where the first one is flat.
    """
    fake_logits = _logits("generator_loss", "fake_logits", fake_logits)
    if not isinstance(saturating, bool):
        raise TypeError(f"generator_loss: saturating is {saturating!r}; expected True or False")
    return -F.softplus(fake_logits).mean() if saturating else F.softplus(-fake_logits).mean()


# ------------------------------------------------------------------------------------------------- training


def train_gan(generator: Generator, discriminator: Discriminator, data, *, steps: int, batch_size: int = 128,
              lr_g: float = 1e-3, lr_d: float = 1e-3, betas=(0.5, 0.999), d_steps: int = 1, saturating: bool = False,
              smooth: float = 0.0, seed: int = 0, snapshot_every: int = 0, z_fixed=None):
    """Alternate ``d_steps`` discriminator updates and one generator update, ``steps`` times, with Adam.

    data:   (N, D) tensor of real rows, on the models' device; each batch is drawn from it with replacement.
    seed:   seeds the batches and the noise (an explicit ``torch.Generator`` on the CPU, so every device draws the same).
    snapshot_every, z_fixed: every ``snapshot_every`` generator steps (and at step 0), store ``G(z_fixed)`` as a
            NumPy array, so the samples of one fixed noise batch can be replayed over training.
    Returns a dict: ``d_loss`` and ``g_loss`` (lists, one entry per step), ``snapshots`` (list of ``(step, samples)``).
    """
    if not torch.is_tensor(data) or data.dim() != 2 or data.shape[1] != discriminator.in_dim:
        shape = tuple(data.shape) if torch.is_tensor(data) else type(data).__name__
        raise ValueError(f"train_gan: data is {shape}; expected a tensor (N, {discriminator.in_dim})")
    if generator.out != discriminator.in_dim:
        raise ValueError(f"train_gan: the generator makes {generator.out} values per row, the discriminator "
                         f"reads {discriminator.in_dim}")
    steps = integer("train_gan", "steps", steps, minimum=0)
    batch_size = integer("train_gan", "batch_size", batch_size, minimum=1)
    d_steps = integer("train_gan", "d_steps", d_steps, minimum=1)
    snapshot_every = integer("train_gan", "snapshot_every", snapshot_every, minimum=0)
    if snapshot_every and z_fixed is None:
        raise ValueError("train_gan: snapshot_every needs z_fixed, the noise whose samples are stored")
    device = data.device
    gen = torch.Generator().manual_seed(integer("train_gan", "seed", seed, minimum=0))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas)

    def noise():
        return torch.randn(batch_size, generator.latent, generator=gen).to(device)

    def snapshot(step):
        with torch.no_grad():
            history["snapshots"].append((step, generator(z_fixed).cpu().numpy()))

    history = {"d_loss": [], "g_loss": [], "snapshots": []}
    if snapshot_every:
        snapshot(0)
    for step in range(1, steps + 1):
        for _ in range(d_steps):
            real = data[torch.randint(len(data), (batch_size,), generator=gen).to(device)]
            with torch.no_grad():
                fake = generator(noise())
            d_loss = discriminator_loss(discriminator(real), discriminator(fake), smooth=smooth)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        g_loss = generator_loss(discriminator(generator(noise())), saturating=saturating)
        opt_g.zero_grad()
        g_loss.backward()          # also fills D's gradients; opt_d.zero_grad() clears them before D's next step
        opt_g.step()
        history["d_loss"].append(d_loss.item())
        history["g_loss"].append(g_loss.item())
        if snapshot_every and step % snapshot_every == 0:
            snapshot(step)
    return history


# ------------------------------------------------------------------------------------ the ring of Gaussians


def ring_centres(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``modes`` centres, evenly spaced on a circle of ``radius``: (modes, 2)."""
    modes = integer("ring_centres", "modes", modes, minimum=1)
    radius = float(number("ring_centres", "radius", radius, 0, low_open=True))
    angle = 2 * math.pi * np.arange(modes) / modes
    return radius * np.c_[np.cos(angle), np.sin(angle)]


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0) -> np.ndarray:
    """``n`` points (n, 2), each from one of ``modes`` equally likely round Gaussians of ``std`` on a ring."""
    n = integer("ring_of_gaussians", "n", n, minimum=1)
    std = float(number("ring_of_gaussians", "std", std, 0, low_open=True))
    rng = np.random.default_rng(seed)
    centres = ring_centres(modes, radius)
    return centres[rng.integers(len(centres), size=n)] + std * rng.standard_normal((n, 2))


def mode_coverage(samples, centres, std: float, *, min_fraction: float = 0.02):
    """How well 2-D samples cover a mixture of round Gaussians of standard deviation ``std``.

    Each sample is assigned to its nearest centre; it is *good* when it lies within 3 std of it. A mode is
    *covered* when at least ``min_fraction`` of all samples are good samples of that mode.
    Returns ``(good_fraction, modes_covered, counts)``, counts being the good samples per mode, (modes,).
    """
    samples = np.asarray(samples.detach().cpu() if torch.is_tensor(samples) else samples, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"mode_coverage: samples has shape {samples.shape}; expected (N, 2) with N >= 1")
    if centres.ndim != 2 or centres.shape[1] != 2:
        raise ValueError(f"mode_coverage: centres has shape {centres.shape}; expected (modes, 2)")
    std = float(number("mode_coverage", "std", std, 0, low_open=True))
    distance = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)   # (N, modes)
    nearest = distance.argmin(axis=1)
    good = distance[np.arange(len(samples)), nearest] <= 3 * std
    counts = np.bincount(nearest[good], minlength=len(centres))
    covered = int(np.sum(counts >= min_fraction * len(samples)))
    samples_ok = np.isfinite(samples).all(axis=1)
    return float(np.mean(good & samples_ok)), covered, counts
