"""Initialisers: statistics against the papers' formulas and against torch.nn.init."""

import math

import numpy as np
import pytest
import torch

from lessons_lib.scratch import init

FAN_IN, FAN_OUT = 1000, 400  # unequal, so swapping fan_in and fan_out would show


def _torch_weight(fn, **kwargs) -> np.ndarray:
    """torch stores a Linear weight as (out, in); transpose to our (in, out)."""
    torch.manual_seed(0)
    w = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    fn(w, **kwargs)
    return w.numpy().T


@pytest.mark.parametrize("name, expected_std, torch_fn, torch_kwargs", [
    ("xavier_normal", math.sqrt(2 / (FAN_IN + FAN_OUT)), torch.nn.init.xavier_normal_, {}),
    ("he_normal", math.sqrt(2 / FAN_IN), torch.nn.init.kaiming_normal_, {"nonlinearity": "relu"}),
])
def test_normal_inits(name, expected_std, torch_fn, torch_kwargs):
    w = getattr(init, name)(FAN_IN, FAN_OUT, rng=0)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float32
    # with 400,000 draws the sample std is within about 0.1% of the true one
    assert w.std() == pytest.approx(expected_std, rel=0.01)
    assert abs(w.mean()) < 5 * expected_std / math.sqrt(w.size)
    ref = _torch_weight(torch_fn, **torch_kwargs)
    assert w.std() == pytest.approx(ref.std(), rel=0.01)


@pytest.mark.parametrize("name, bound, torch_fn, torch_kwargs", [
    ("xavier_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT)), torch.nn.init.xavier_uniform_, {}),
    ("he_uniform", math.sqrt(6 / FAN_IN), torch.nn.init.kaiming_uniform_, {"nonlinearity": "relu"}),
])
def test_uniform_inits(name, bound, torch_fn, torch_kwargs):
    w = getattr(init, name)(FAN_IN, FAN_OUT, rng=0)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float32
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.999 * bound  # the whole interval is used
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)  # U(-a, a) has variance a^2 / 3
    ref = _torch_weight(torch_fn, **torch_kwargs)
    assert np.abs(ref).max() == pytest.approx(np.abs(w).max(), rel=0.002)
    assert w.std() == pytest.approx(ref.std(), rel=0.01)


def test_gain_scales_xavier_and_matches_torch_gains():
    w = init.xavier_normal(FAN_IN, FAN_OUT, gain=init.calculate_gain("tanh"), rng=1)
    assert w.std() == pytest.approx(5 / 3 * math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.01)
    for name in ["linear", "sigmoid", "tanh", "relu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.2))
    with pytest.raises(ValueError, match="unknown nonlinearity 'softplus'"):
        init.calculate_gain("softplus")


def test_naive_normal_and_zeros():
    w = init.normal((500, 600), rng=0)
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(1.0, rel=0.01)
    assert init.normal((500, 600), mean=3.0, std=0.5, rng=0).mean() == pytest.approx(3.0, abs=0.01)
    z = init.zeros((3, 4))
    assert z.shape == (3, 4) and z.dtype == np.float32 and not z.any()


def test_dtype_and_seed():
    w64 = init.he_normal(20, 30, rng=7, dtype=np.float64)
    assert w64.dtype == np.float64
    np.testing.assert_array_equal(init.he_normal(20, 30, rng=7), w64.astype(np.float32))
    assert not np.array_equal(init.he_normal(20, 30, rng=8), init.he_normal(20, 30, rng=7))
    g = np.random.default_rng(3)
    assert not np.array_equal(init.xavier_uniform(5, 5, rng=g), init.xavier_uniform(5, 5, rng=g))


@pytest.mark.parametrize("fn", [init.xavier_uniform, init.xavier_normal, init.he_uniform, init.he_normal])
@pytest.mark.parametrize("fan_in, fan_out, bad", [(0, 5, "fan_in"), (5, -2, "fan_out"), (2.5, 3, "fan_in")])
def test_bad_fans_are_rejected(fn, fan_in, fan_out, bad):
    with pytest.raises(ValueError, match=f"{fn.__name__}: {bad} is .*; expected a positive integer"):
        fn(fan_in, fan_out)


def test_negative_std_is_rejected():
    with pytest.raises(ValueError, match="std must be >= 0, got -1"):
        init.normal((2, 2), std=-1.0)
