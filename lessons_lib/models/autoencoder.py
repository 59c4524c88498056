"""Autoencoders and variational autoencoders on flat inputs such as the 8x8 digits (Appendix A).

An :class:`Autoencoder` squeezes an input x (N, in_dim) through a small code z = encode(x) (N, bottleneck) and
rebuilds it, x_hat = decode(z) (N, in_dim); it is trained to make x_hat close to x. With ``linear=True`` every
layer is linear, and the best such model spans the same subspace as PCA with ``bottleneck`` components.

A :class:`VAE` (Kingma and Welling, 2014) makes the code probabilistic: the encoder returns the mean ``mu`` and
the log-variance ``logvar`` of a diagonal Gaussian q(z | x) = N(mu, diag(exp(logvar))), a code is drawn with the
reparameterisation z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) (:func:`reparameterize`), and the decoder
returns the logits of the pixels. :func:`vae_loss` is the negative ELBO: the reconstruction term plus
KL(q(z | x) || N(0, I)), whose closed form is :func:`gaussian_kl`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from lessons_lib.validate import integer, number, one_of

__all__ = ["VAE", "Autoencoder", "VAELoss", "gaussian_kl", "mlp", "reconstruction_error", "reparameterize", "vae_loss"]


def _widths(fn: str, hidden) -> list[int]:
    widths = [hidden] if isinstance(hidden, int) and not isinstance(hidden, bool) else list(hidden)
    return [integer(fn, "hidden", h, 1) for h in widths]


def mlp(sizes, *, linear: bool = False, activation=nn.ReLU) -> nn.Sequential:
    """Linear layers of the given sizes, e.g. [64, 32, 2]: Linear(64, 32), activation, Linear(32, 2).

    No activation after the last layer; none at all with ``linear=True``.
    """
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if not linear and i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """in_dim -> hidden... -> bottleneck -> ...hidden -> in_dim, the decoder mirroring the encoder.

    hidden:     an int or a list of widths, e.g. [64] or [128, 64]; [] for one linear map each way.
    linear:     no activations anywhere (a linear autoencoder, comparable with PCA).
    The decoder returns unbounded values (no sigmoid); ``forward(x)`` returns decode(encode(x)), (N, in_dim).
    """

    def __init__(self, in_dim: int, hidden, bottleneck: int, *, linear: bool = False, activation=nn.ReLU):
        super().__init__()
        fn = "Autoencoder"
        in_dim, bottleneck = integer(fn, "in_dim", in_dim, 1), integer(fn, "bottleneck", bottleneck, 1)
        widths = _widths(fn, hidden)
        self.in_dim, self.bottleneck = in_dim, bottleneck
        self.encoder = mlp([in_dim, *widths, bottleneck], linear=linear, activation=activation)
        self.decoder = mlp([bottleneck, *widths[::-1], in_dim], linear=linear, activation=activation)

    def encode(self, x: torch.Tensor) -> torch.Tensor:        # (N, in_dim) -> (N, bottleneck)
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"Autoencoder.encode: x has shape {tuple(x.shape)}; expected (N, {self.in_dim})")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:        # (N, bottleneck) -> (N, in_dim)
        if z.ndim != 2 or z.shape[1] != self.bottleneck:
            raise ValueError(f"Autoencoder.decode: z has shape {tuple(z.shape)}; expected (N, {self.bottleneck})")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def reconstruction_error(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """The mean squared error of each row, mean_j (x_hat_ij - x_ij)^2: (N, in_dim) -> (N,), without gradients.

    ``model(x)`` must return the reconstruction (for a :class:`VAE`, :meth:`VAE.reconstruct`, the mean pixels).
    """
    if x.ndim != 2:
        raise ValueError(f"reconstruction_error: x has shape {tuple(x.shape)}; expected (N, features)")
    was_training = model.training
    model.eval()
    rebuild = model.reconstruct if isinstance(model, VAE) else model
    with torch.no_grad():
        errors = [((rebuild(xb) - xb) ** 2).mean(dim=1) for xb in x.split(batch_size)]
    model.train(was_training)
    return torch.cat(errors)


# ------------------------------------------------------------------------------------------------- VAE


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(sigma^2)) || N(0, I) ) for each row, in closed form: (N, D), (N, D) -> (N,).

        KL = 1/2 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2),   sigma_j^2 = exp(logvar_j).

    It is 0 only at mu = 0, logvar = 0, and grows without bound as any sigma_j goes to 0 or infinity.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"gaussian_kl: mu has shape {tuple(mu.shape)} but logvar has {tuple(logvar.shape)}; "
                         "expected one shape (N, D)")
    if mu.ndim < 1:
        raise ValueError("gaussian_kl: mu is a single number; expected shape (N, D) or (D,)")
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample z ~ N(mu, diag(exp(logvar))) written as z = mu + sigma * eps with eps ~ N(0, I) drawn separately.

    The randomness lives in eps, which does not depend on the parameters, so dz/dmu = 1 and
    dz/dlogvar = sigma * eps / 2: gradients flow through the sample. (N, D), (N, D) -> (N, D).
    ``generator`` (on mu's device) makes the draw reproducible.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"reparameterize: mu has shape {tuple(mu.shape)} but logvar has {tuple(logvar.shape)}; "
                         "expected one shape")
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


class VAELoss(NamedTuple):
    """The negative ELBO and its two terms, each averaged over the batch (summed over pixels / latent dims)."""

    loss: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def vae_loss(x_out: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *, beta: float = 1.0,
             likelihood: str = "bernoulli", sigma: float = 1.0) -> VAELoss:
    """The negative ELBO, reconstruction + beta * KL(q(z | x) || N(0, I)), averaged over the batch.

    x_out:      the decoder's output (N, D): logits for ``likelihood="bernoulli"`` (the reconstruction term is
                binary cross-entropy summed over pixels, targets x in [0, 1]); the reconstructed mean for
                ``"gaussian"`` (sum of squared errors / (2 sigma^2), the constant dropped).
    mu, logvar: the encoder's outputs (N, latent).
    beta:       weight of the KL term (1 is the ELBO itself; other values give the beta-VAE).
    Returns a :class:`VAELoss` (loss, reconstruction, kl); call ``.loss.backward()``.
    """
    fn = "vae_loss"
    likelihood = one_of(fn, "likelihood", likelihood, ("bernoulli", "gaussian"))
    beta = number(fn, "beta", beta, 0)
    if x_out.shape != x.shape:
        raise ValueError(f"{fn}: x_out has shape {tuple(x_out.shape)} but x has {tuple(x.shape)}; expected one shape")
    if mu.shape[0] != x.shape[0]:
        raise ValueError(f"{fn}: mu has {mu.shape[0]} rows but x has {x.shape[0]}; expected one row per example")
    if likelihood == "bernoulli":
        if bool((x < 0).any()) or bool((x > 1).any()):
            raise ValueError(f"{fn}: the bernoulli likelihood needs x in [0, 1]; got values in "
                             f"[{float(x.min()):g}, {float(x.max()):g}] (scale the data, or use likelihood='gaussian')")
        recon = F.binary_cross_entropy_with_logits(x_out, x, reduction="none").sum(dim=1)
    else:
        sigma = number(fn, "sigma", sigma, 0, low_open=True)
        recon = ((x_out - x) ** 2).sum(dim=1) / (2 * sigma**2)
    kl = gaussian_kl(mu, logvar)
    recon, kl = recon.mean(), kl.mean()
    return VAELoss(recon + beta * kl, recon, kl)


class VAE(nn.Module):
    """A variational autoencoder: in_dim -> hidden... -> (mu, logvar) of size latent; latent -> ...hidden -> in_dim.

    encode(x) -> (mu, logvar), each (N, latent); decode(z) -> logits (N, in_dim) of Bernoulli pixels;
    forward(x, generator=None) -> (logits, mu, logvar) with z drawn by :func:`reparameterize` in training mode
    and z = mu in eval mode; reconstruct(x) -> sigmoid(decode(mu)), the mean image; sample(n) decodes
    z ~ N(0, I) into n mean images.
    """

    def __init__(self, in_dim: int, hidden, latent: int, *, activation=nn.ReLU):
        super().__init__()
        fn = "VAE"
        in_dim, latent = integer(fn, "in_dim", in_dim, 1), integer(fn, "latent", latent, 1)
        widths = _widths(fn, hidden)
        if not widths:
            raise ValueError("VAE: hidden is empty; give at least one hidden width, e.g. 128")
        self.in_dim, self.latent = in_dim, latent
        self.trunk = nn.Sequential(mlp([in_dim, *widths], activation=activation), activation())
        self.to_mu = nn.Linear(widths[-1], latent)
        self.to_logvar = nn.Linear(widths[-1], latent)
        self.decoder = mlp([latent, *widths[::-1], in_dim], activation=activation)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:     # (N, in_dim) -> 2 x (N, latent)
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"VAE.encode: x has shape {tuple(x.shape)}; expected (N, {self.in_dim})")
        h = self.trunk(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:                          # (N, latent) -> (N, in_dim) logits
        if z.ndim != 2 or z.shape[1] != self.latent:
            raise ValueError(f"VAE.decode: z has shape {tuple(z.shape)}; expected (N, {self.latent})")
        return self.decoder(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator) if self.training else mu
        return self.decode(z), mu, logvar

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The mean image sigmoid(decode(mu)) for each row of x: (N, in_dim) -> (N, in_dim)."""
        return torch.sigmoid(self.decode(self.encode(x)[0]))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new mean images from z ~ N(0, I): (n, in_dim), values in (0, 1)."""
        n = integer("VAE.sample", "n", n, 1)
        device = self.to_mu.weight.device
        z = torch.randn((n, self.latent), generator=generator, device=device)
        with torch.no_grad():
            return torch.sigmoid(self.decode(z))
