"""lessons_lib.models.autoencoder: shapes, the closed-form KL against torch.distributions, gradients, errors."""

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence

from lessons_lib.models.autoencoder import VAE, Autoencoder, gaussian_kl, reconstruction_error, reparameterize, vae_loss


def diagonal_normal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


def test_gaussian_kl_matches_torch_distributions_in_float64():
    g = torch.Generator().manual_seed(0)
    mu = 3 * torch.randn(7, 5, generator=g, dtype=torch.float64)
    logvar = 2 * torch.randn(7, 5, generator=g, dtype=torch.float64)
    standard = diagonal_normal(torch.zeros_like(mu), torch.zeros_like(logvar))
    expected = kl_divergence(diagonal_normal(mu, logvar), standard)
    assert gaussian_kl(mu, logvar).shape == (7,)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected, rtol=1e-12, atol=1e-12)
    assert torch.allclose(gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))
    assert gaussian_kl(mu[0], logvar[0]).shape == ()                       # one row (D,) -> a scalar


def test_gaussian_kl_gradient_by_gradcheck_and_closed_form():
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gaussian_kl, (mu, logvar))
    gaussian_kl(mu, logvar).sum().backward()
    torch.testing.assert_close(mu.grad, mu.detach())                           # d/dmu = mu
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1))  # d/dlogvar = (sigma^2 - 1) / 2


def test_reparameterize_distribution_and_gradients():
    mu = torch.tensor([[1.5, -2.0]], dtype=torch.float64).expand(200_000, 2).clone().requires_grad_(True)
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(0.5)).item()]], dtype=torch.float64).expand(200_000, 2)
    logvar = logvar.clone().requires_grad_(True)
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(2))
    assert z.shape == mu.shape and z.requires_grad
    torch.testing.assert_close(z.mean(0), torch.tensor([1.5, -2.0], dtype=torch.float64), atol=0.01, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 0.5], dtype=torch.float64), atol=0.01, rtol=0)
    z.sum().backward()
    assert torch.all(mu.grad == 1)                                            # dz/dmu = 1
    eps = (z - mu) / torch.exp(0.5 * logvar)
    torch.testing.assert_close(logvar.grad, (0.5 * torch.exp(0.5 * logvar) * eps).detach())


def test_reparameterize_is_reproducible_with_a_generator():
    mu, logvar = torch.zeros(3, 4), torch.zeros(3, 4)
    a = reparameterize(mu, logvar, torch.Generator().manual_seed(5))
    b = reparameterize(mu, logvar, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    tiny = reparameterize(mu, torch.full((3, 4), -200.0))                          # sigma -> 0: z -> mu, no nan
    assert torch.isfinite(tiny).all() and tiny.abs().max() < 1e-40


def test_autoencoder_shapes_and_linear_option():
    torch.manual_seed(0)
    ae = Autoencoder(64, [32, 16], 4)
    x = torch.rand(10, 64)
    assert ae.encode(x).shape == (10, 4) and ae(x).shape == (10, 64)
    assert reconstruction_error(ae, x).shape == (10,)
    linear = Autoencoder(64, [], 3, linear=True)
    assert [type(m).__name__ for m in linear.modules()].count("ReLU") == 0
    assert sum(p.numel() for p in linear.parameters()) == 64 * 3 + 3 + 3 * 64 + 64
    # a linear autoencoder is an affine map: f(a x + b y) = a f(x) + b f(y) when a + b = 1
    torch.testing.assert_close(linear(0.3 * x + 0.7 * x.flip(0)), 0.3 * linear(x) + 0.7 * linear(x.flip(0)))


def test_vae_forward_loss_and_gradients():
    torch.manual_seed(0)
    vae = VAE(64, 32, 2)
    x = torch.rand(8, 64)
    logits, mu, logvar = vae(x, generator=torch.Generator().manual_seed(0))
    assert logits.shape == (8, 64) and mu.shape == logvar.shape == (8, 2)
    parts = vae_loss(logits, x, mu, logvar)
    expected_recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 8
    torch.testing.assert_close(parts.reconstruction, expected_recon)
    torch.testing.assert_close(parts.kl, gaussian_kl(mu, logvar).mean())
    torch.testing.assert_close(parts.loss, parts.reconstruction + parts.kl)
    parts.loss.backward()
    assert vae.to_mu.weight.grad.abs().sum() > 0 and vae.to_logvar.weight.grad.abs().sum() > 0
    gauss = vae_loss(torch.sigmoid(logits), x, mu, logvar, likelihood="gaussian", sigma=0.5, beta=0.0)
    torch.testing.assert_close(gauss.loss, ((torch.sigmoid(logits) - x) ** 2).sum(1).mean() / 0.5)
    vae.eval()
    _, mu_eval, _ = vae(x)
    assert torch.equal(vae(x)[0], vae.decode(mu_eval))                          # eval mode decodes the mean
    assert vae.sample(5).shape == (5, 64) and reconstruction_error(vae, x).shape == (8,)
    assert torch.all((vae.sample(3) > 0) & (vae.sample(3) < 1))


def test_clear_errors():
    with pytest.raises(ValueError, match="gaussian_kl: mu has shape"):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="reparameterize: mu has shape"):
        reparameterize(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="Autoencoder: bottleneck is 0"):
        Autoencoder(64, 16, 0)
    with pytest.raises(ValueError, match="Autoencoder: hidden is -1"):
        Autoencoder(64, [-1], 2)
    with pytest.raises(ValueError, match=r"Autoencoder.encode: x has shape \(4, 10\); expected \(N, 64\)"):
        Autoencoder(64, 16, 2).encode(torch.zeros(4, 10))
    with pytest.raises(ValueError, match="VAE: hidden is empty"):
        VAE(64, [], 2)
    with pytest.raises(ValueError, match=r"VAE.decode: z has shape \(4, 3\)"):
        VAE(64, 16, 2).decode(torch.zeros(4, 3))
    x, mu = torch.rand(4, 64), torch.zeros(4, 2)
    with pytest.raises(ValueError, match="x in \\[0, 1\\]"):
        vae_loss(torch.zeros(4, 64), 16 * x, mu, mu)
    with pytest.raises(ValueError, match="likelihood 'gausian' is unknown.*did you mean 'gaussian'"):
        vae_loss(torch.zeros(4, 64), x, mu, mu, likelihood="gausian")
    with pytest.raises(ValueError, match="x_out has shape"):
        vae_loss(torch.zeros(4, 63), x, mu, mu)
    with pytest.raises(ValueError, match="beta is -1"):
        vae_loss(torch.zeros(4, 64), x, mu, mu, beta=-1)
