"""lessons_lib.models.gan: the losses against torch's BCE, the two generator gradients, the optimal discriminator,
the models' shapes and seeds, the training loop, the ring of Gaussians and its coverage score, the error messages."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons_lib.models.gan import (
    Discriminator,
    Generator,
    discriminator_loss,
    generator_loss,
    mode_coverage,
    ring_centres,
    ring_of_gaussians,
    train_gan,
)

f64 = torch.float64


def logits(n, seed, scale=3.0):
    return scale * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=f64)


# ---------------------------------------------------------------------------------------------- losses


@pytest.mark.parametrize("smooth", [0.0, 0.1, 0.3])
def test_discriminator_loss_is_bce_real_one_fake_zero(smooth):
    real, fake = logits(50, 0), logits(40, 1)
    expected = (F.binary_cross_entropy_with_logits(real, torch.full_like(real, 1 - smooth))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    assert torch.allclose(discriminator_loss(real, fake, smooth=smooth), expected, atol=1e-13, rtol=0)


def test_generator_losses_against_bce_and_the_minimax_term():
    fake = logits(64, 2).requires_grad_(True)
    ours = generator_loss(fake)
    ref = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))        # -E log D(G(z))
    assert torch.allclose(ours, ref, atol=1e-13, rtol=0)
    g_ours, = torch.autograd.grad(ours, fake)
    g_ref, = torch.autograd.grad(ref, fake)
    assert torch.allclose(g_ours, g_ref, atol=1e-15, rtol=0)
    saturating = generator_loss(fake, saturating=True)                          # E log(1 - D(G(z)))
    minimax_term = torch.log1p(-torch.sigmoid(fake)).mean()
    assert torch.allclose(saturating, minimax_term, atol=1e-12, rtol=0)
    assert torch.allclose(saturating, -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)), atol=1e-13)


def test_losses_stay_finite_for_extreme_logits():
    extreme = torch.tensor([-1000.0, -80.0, 0.0, 80.0, 1000.0], dtype=f64, requires_grad=True)
    for loss in (discriminator_loss(extreme, extreme), generator_loss(extreme), generator_loss(extreme, saturating=True)):
        (grad,) = torch.autograd.grad(loss, extreme)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
    naive = -torch.log(torch.sigmoid(extreme.detach())).mean()                   # what the logits form avoids
    assert torch.isinf(naive)


def test_non_saturating_gradient_is_strong_where_the_saturating_one_vanishes():
    # A confident discriminator: it gives the generated samples logits around -10, D(G(z)) ~ 4.5e-5.
    a = torch.full((8,), -10.0, dtype=f64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(generator_loss(a, saturating=True), a)
    (g_ns,) = torch.autograd.grad(generator_loss(a), a)
    sigma = 1 / (1 + math.exp(10.0))
    assert torch.allclose(g_sat, torch.full_like(a, -sigma / 8), rtol=1e-10)      # -sigmoid(a) / N
    assert torch.allclose(g_ns, torch.full_like(a, -(1 - sigma) / 8), rtol=1e-10)  # -(1 - sigmoid(a)) / N
    assert (g_ns / g_sat).min().item() > 2e4                                       # same sign, 22,000 times larger
    # Where D is fooled (logit +10) the roles swap: the saturating loss has the large gradient.
    b = torch.full((8,), 10.0, dtype=f64, requires_grad=True)
    (h_sat,) = torch.autograd.grad(generator_loss(b, saturating=True), b)
    (h_ns,) = torch.autograd.grad(generator_loss(b), b)
    assert h_sat.abs().min() > 1e3 * h_ns.abs().max()


def normal_pdf(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def test_the_pointwise_optimum_of_the_discriminator_loss_is_p_data_over_the_sum():
    # Minimise the expected loss  sum_x [p_d(x) softplus(-a(x)) + p_g(x) softplus(a(x))] dx  over a free logit per
    # grid point (Newton's method, the problem is convex per point): sigmoid(a*) must be p_d / (p_d + p_g).
    x = np.linspace(-4, 5, 181)
    p_d, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 1.5, 0.7)
    pd_t, pg_t = torch.tensor(p_d), torch.tensor(p_g)
    a = torch.zeros(len(x), dtype=f64)
    for _ in range(30):
        a.requires_grad_(True)
        expected_loss = (pd_t * F.softplus(-a) + pg_t * F.softplus(a)).sum()
        (grad,) = torch.autograd.grad(expected_loss, a)
        s = torch.sigmoid(a.detach())
        a = a.detach() - grad / ((pd_t + pg_t) * s * (1 - s))      # Newton: the second derivative is diagonal
    d_star = p_d / (p_d + p_g)
    assert np.abs(torch.sigmoid(a).detach().numpy() - d_star).max() < 1e-9


def test_a_trained_discriminator_approaches_the_optimal_one():
    # 1-D: real N(0, 1), fixed "generator" N(1.5, 0.7^2). Train D with discriminator_loss on samples.
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    D = Discriminator(1, 32, seed=0)
    opt = torch.optim.Adam(D.parameters(), lr=3e-3)
    for _ in range(600):
        real = torch.randn(512, 1, generator=gen)
        fake = 1.5 + 0.7 * torch.randn(512, 1, generator=gen)
        loss = discriminator_loss(D(real), D(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = np.linspace(-1.5, 2.5, 41)
    with torch.no_grad():
        d = torch.sigmoid(D(torch.tensor(x, dtype=torch.float32)[:, None])).numpy()
    d_star = normal_pdf(x, 0, 1) / (normal_pdf(x, 0, 1) + normal_pdf(x, 1.5, 0.7))
    assert np.abs(d - d_star).max() < 0.08


def test_the_value_at_the_optimal_discriminator_is_minus_log_4_plus_twice_jsd():
    x = np.linspace(-8, 8, 160001)
    dx = x[1] - x[0]
    p_d, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 1.5, 0.7)
    value = np.sum(p_d * np.log(p_d / (p_d + p_g)) + p_g * np.log(p_g / (p_d + p_g))) * dx   # V(D*, G)
    m = (p_d + p_g) / 2
    jsd = 0.5 * np.sum(p_d * np.log(p_d / m)) * dx + 0.5 * np.sum(p_g * np.log(p_g / m)) * dx
    assert abs(value - (-math.log(4) + 2 * jsd)) < 1e-8
    same = np.sum(p_d * np.log(0.5) + p_d * np.log(0.5)) * dx                    # p_g = p_d: D* = 1/2, value -log 4
    assert abs(same + math.log(4)) < 1e-6


# ---------------------------------------------------------------------------------------------- models


def test_shapes_outputs_and_seeds():
    G = Generator(3, 16, 5, seed=1)
    D = Discriminator(5, 16, layers=3, seed=2)
    z = torch.randn(7, 3)
    x = G(z)
    assert x.shape == (7, 5) and D(x).shape == (7,)
    T = Generator(3, 16, 5, output="tanh", seed=1)
    assert T(10 * z).abs().max() < 1
    state = torch.random.get_rng_state()
    again = Generator(3, 16, 5, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state), "a seeded model must not move the global generator"
    assert all(torch.equal(p, q) for p, q in zip(G.parameters(), again.parameters()))
    other = Generator(3, 16, 5, seed=2)
    assert not torch.equal(next(G.parameters()), next(other.parameters()))
    n_params = sum(p.numel() for p in G.parameters())
    assert n_params == (3 * 16 + 16) + (16 * 16 + 16) + (16 * 5 + 5)


def test_train_gan_is_reproducible_and_learns_a_shifted_gaussian():
    data = (3.0 + 0.5 * torch.randn(2000, 1, generator=torch.Generator().manual_seed(0)))
    z = torch.randn(500, 1, generator=torch.Generator().manual_seed(1))

    def run():
        G, D = Generator(1, 16, 1, seed=0), Discriminator(1, 16, seed=1)
        return train_gan(G, D, data, steps=400, batch_size=64, lr_g=3e-3, lr_d=3e-3, seed=3, snapshot_every=100, z_fixed=z)

    h1, h2 = run(), run()
    assert len(h1["d_loss"]) == len(h1["g_loss"]) == 400
    assert [s for s, _ in h1["snapshots"]] == [0, 100, 200, 300, 400]
    assert h1["d_loss"] == h2["d_loss"]
    first, last = h1["snapshots"][0][1], h1["snapshots"][-1][1]
    assert abs(first.mean() - 3.0) > 1.5 and abs(last.mean() - 3.0) < 0.5


# ------------------------------------------------------------------------------------ ring and coverage


def test_ring_and_coverage():
    centres = ring_centres(8, 2.0)
    assert centres.shape == (8, 2) and np.allclose(np.linalg.norm(centres, axis=1), 2.0)
    X = ring_of_gaussians(4000, std=0.05, seed=0)
    assert X.shape == (4000, 2) and np.array_equal(X, ring_of_gaussians(4000, std=0.05, seed=0))
    good, covered, counts = mode_coverage(X, centres, 0.05)
    assert good > 0.98 and covered == 8 and counts.sum() == round(good * 4000)
    collapsed = centres[3] + 0.01 * np.random.default_rng(0).standard_normal((500, 2))
    good, covered, counts = mode_coverage(torch.tensor(collapsed), centres, 0.05)
    assert good == 1.0 and covered == 1 and counts[3] == 500
    good, covered, _ = mode_coverage(np.zeros((100, 2)), centres, 0.05)           # all at the centre: no mode
    assert good == 0.0 and covered == 0


# ---------------------------------------------------------------------------------------------- errors


def test_clear_errors():
    with pytest.raises(ValueError, match=r"Generator: z has shape \(4, 2\); expected \(N, 3\)"):
        Generator(3, 8, 2)(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="Discriminator: x has shape"):
        Discriminator(2, 8)(torch.zeros(4))
    with pytest.raises(ValueError, match="output 'sigmoid' is unknown"):
        Generator(3, 8, 2, output="sigmoid")
    with pytest.raises(ValueError, match="Generator: hidden is 0"):
        Generator(3, 0, 2)
    with pytest.raises(ValueError, match=r"real_logits has shape \(4, 1\); expected \(N,\)"):
        discriminator_loss(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(TypeError, match="fake_logits must be a floating-point tensor"):
        generator_loss(np.zeros(4))
    with pytest.raises(ValueError, match="smooth is 1"):
        discriminator_loss(torch.zeros(4), torch.zeros(4), smooth=1.0)
    with pytest.raises(TypeError, match="saturating is 'yes'"):
        generator_loss(torch.zeros(4), saturating="yes")
    with pytest.raises(ValueError, match="the generator makes 3 values per row, the discriminator reads 2"):
        train_gan(Generator(2, 8, 3), Discriminator(2, 8), torch.zeros(10, 2), steps=1)
    with pytest.raises(ValueError, match=r"train_gan: data is \(10, 3\); expected a tensor \(N, 2\)"):
        train_gan(Generator(2, 8, 2), Discriminator(2, 8), torch.zeros(10, 3), steps=1)
    with pytest.raises(ValueError, match="snapshot_every needs z_fixed"):
        train_gan(Generator(2, 8, 2), Discriminator(2, 8), torch.zeros(10, 2), steps=1, snapshot_every=1)
    with pytest.raises(ValueError, match="mode_coverage: samples has shape"):
        mode_coverage(np.zeros((5, 3)), ring_centres(), 0.05)
