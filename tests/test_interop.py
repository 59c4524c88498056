"""copy_linear_: a from-scratch (in, out) layer loaded into torch.nn.Linear computes the same outputs."""

import numpy as np
import pytest
import torch

from lessons_lib.scratch.layers import Linear
from lessons_lib.training.interop import copy_linear_


def test_copied_layer_gives_the_same_outputs():
    rng = np.random.default_rng(0)
    ours = Linear(4, 3, rng=rng, dtype=np.float64)
    ours.b.data[:] = rng.normal(size=3)
    theirs = copy_linear_(torch.nn.Linear(4, 3, dtype=torch.float64), ours.W.data, ours.b.data)
    x = rng.normal(size=(5, 4))
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours.forward(x), rtol=1e-12)


def test_one_unit_and_a_scalar_bias():
    w, b = np.array([0.5, -1.0, 2.0]), 0.25
    layer = copy_linear_(torch.nn.Linear(3, 1, dtype=torch.float64), w, b)
    x = np.array([[1.0, 2.0, 3.0]])
    assert layer(torch.from_numpy(x)).item() == pytest.approx(x @ w + b)


def test_a_transposed_matrix_is_refused_with_the_shapes():
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\); expected \(in, out\) = \(4, 3\)"):
        copy_linear_(torch.nn.Linear(4, 3), np.zeros((3, 4)))
