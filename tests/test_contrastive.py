"""CLIP's symmetric contrastive loss (lessons_lib.functional.losses.contrastive_loss) against torch."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons_lib.functional.losses import contrastive_loss


def torch_reference(a, b, temperature):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature        # (N, N)
    target = torch.arange(a.shape[0])
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def pairs(n=6, d=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=gen, dtype=torch.float64),
            torch.randn(n, d, generator=gen, dtype=torch.float64))


@pytest.mark.parametrize("n,d,temperature", [(1, 3, 0.1), (2, 2, 1.0), (6, 5, 0.07), (16, 8, 0.5), (5, 40, 3.0)])
def test_equals_torch_in_float64(n, d, temperature):
    a, b = pairs(n, d)
    assert torch.allclose(contrastive_loss(a, b, temperature), torch_reference(a, b, temperature), rtol=1e-12, atol=1e-12)


def test_numpy_gives_the_same_value():
    a, b = pairs()
    ours = contrastive_loss(a.numpy(), b.numpy(), 0.2)
    assert isinstance(ours, (np.ndarray, np.floating)) and np.isclose(float(ours), torch_reference(a, b, 0.2).item(), atol=1e-12)


def test_gradients_equal_torch():
    a, b = pairs(8, 4, seed=1)
    a1, b1 = a.clone().requires_grad_(), b.clone().requires_grad_()
    a2, b2 = a.clone().requires_grad_(), b.clone().requires_grad_()
    contrastive_loss(a1, b1, 0.1).backward()
    torch_reference(a2, b2, 0.1).backward()
    assert torch.allclose(a1.grad, a2.grad, atol=1e-12) and torch.allclose(b1.grad, b2.grad, atol=1e-12)
    assert torch.autograd.gradcheck(lambda x, y: contrastive_loss(x, y, 0.3), (a1.detach().requires_grad_(),
                                                                               b1.detach().requires_grad_()))


def test_symmetric_and_scale_invariant():
    a, b = pairs()
    assert torch.allclose(contrastive_loss(a, b, 0.1), contrastive_loss(b, a, 0.1), atol=1e-12)
    assert torch.allclose(contrastive_loss(3 * a, 0.5 * b, 0.1), contrastive_loss(a, b, 0.1), atol=1e-12)


def test_perfect_alignment_gives_a_low_loss():
    eye = torch.eye(8, dtype=torch.float64)                       # 8 orthogonal pairs, each matched exactly
    loss = contrastive_loss(eye, eye, 0.05).item()
    # every row: logit 1/T for the match, 0 for the 7 others -> log(1 + 7 exp(-1/T))
    assert math.isclose(loss, math.log(1 + 7 * math.exp(-20)), rel_tol=1e-6, abs_tol=1e-14) and loss < 1e-7
    a, b = pairs(8, 8)
    assert contrastive_loss(a, b, 0.05).item() > 1.0               # unrelated pairs: far from 0


def test_temperature_behaviour():
    eye = torch.eye(4, dtype=torch.float64)
    a, b = pairs(4, 4)
    # a large temperature flattens every softmax: the loss tends to log N whatever the embeddings
    assert math.isclose(contrastive_loss(a, b, 1e6).item(), math.log(4), rel_tol=1e-5)
    # for aligned pairs a lower temperature means a lower loss
    losses = [contrastive_loss(eye, eye, t).item() for t in (2.0, 1.0, 0.5, 0.1)]
    assert all(x > y for x, y in zip(losses, losses[1:]))


def test_zero_vector_stays_finite():
    a, b = pairs(3, 2)
    a[0] = 0.0
    assert torch.isfinite(contrastive_loss(a, b, 0.1))


def test_clear_errors():
    a, b = pairs()
    with pytest.raises(ValueError, match="temperature"):
        contrastive_loss(a, b, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        contrastive_loss(a, b, -1.0)
    with pytest.raises(ValueError, match="equal shapes"):
        contrastive_loss(a, b[:, :3], 0.1)
    with pytest.raises(ValueError, match=r"expected \(N, D\)"):
        contrastive_loss(a[0], b[0], 0.1)
    with pytest.raises(ValueError, match="empty"):
        contrastive_loss(a[:0], b[:0], 0.1)
    with pytest.raises(TypeError, match="one library"):
        contrastive_loss(a, b.numpy(), 0.1)
