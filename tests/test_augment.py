"""lessons_lib.data.augment: shapes, determinism, the identity at zero strength, the range, bad input."""

import numpy as np
import pytest

from lessons_lib.data.augment import augment
from lessons_lib.data.real import load


@pytest.fixture(scope="module")
def digits():
    d = load("digits")
    return d.X[:12] / 16.0  # (12, 64) in [0, 1]


def test_shapes_are_kept_flat_and_as_images(digits):
    rng = np.random.default_rng(0)
    flat = augment(digits, rng)
    assert flat.shape == (12, 64) and flat.dtype == np.float64
    images = augment(digits.reshape(12, 8, 8), rng)
    assert images.shape == (12, 8, 8)
    assert augment(np.zeros((0, 64)), rng).shape == (0, 64)


def test_same_seed_same_copies_other_seed_other_copies(digits):
    a = augment(digits, np.random.default_rng(5))
    b = augment(digits, np.random.default_rng(5))
    c = augment(digits, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.1


def test_zero_strength_is_the_identity(digits):
    out = augment(digits, np.random.default_rng(0), max_degrees=0, max_shift=0, noise=0)
    np.testing.assert_allclose(out, digits, atol=1e-12)


def test_each_transformation_changes_the_image_and_stays_in_range(digits):
    for kwargs in ({"max_degrees": 12.0, "max_shift": 0, "noise": 0}, {"max_degrees": 0, "max_shift": 1.0, "noise": 0},
                   {"max_degrees": 0, "max_shift": 0, "noise": 0.05}):
        out = augment(digits, np.random.default_rng(1), **kwargs)
        assert np.abs(out - digits).max() > 0.01, kwargs
        assert out.min() >= 0.0 and out.max() <= 1.0, kwargs


def test_copies_keep_about_the_same_ink(digits):
    # small turns and shifts move the strokes but neither erase nor invent them: the total ink of each copy
    # stays close to the original's (a little is lost at the border and to interpolation)
    out = augment(digits, np.random.default_rng(2), noise=0.0)
    ink_ratio = out.sum(axis=1) / digits.sum(axis=1)
    assert np.all((ink_ratio > 0.6) & (ink_ratio < 1.2))


def test_strong_noise_is_clipped_to_the_unit_interval(digits):
    out = augment(digits, np.random.default_rng(3), noise=2.0)
    assert out.min() == 0.0 and out.max() == 1.0


def test_bad_arguments_are_named():
    X = np.zeros((2, 64))
    with pytest.raises(TypeError, match="augment: rng is a int; expected a numpy.random.Generator"):
        augment(X, 0)
    with pytest.raises(ValueError, match="augment: max_degrees is -1; expected a number >= 0"):
        augment(X, np.random.default_rng(0), max_degrees=-1)
    with pytest.raises(ValueError, match="augment: noise is nan"):
        augment(X, np.random.default_rng(0), noise=float("nan"))
    with pytest.raises(ValueError, match="63 pixels do not make a square image"):
        augment(np.zeros((2, 63)), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"augment: X has shape \(64,\)"):
        augment(np.zeros(64), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"values in \[0, 16\]; expected pixel values in \[0, 1\]"):
        augment(np.linspace(0, 16, 128).reshape(2, 64), np.random.default_rng(0))


# ---------------------------------------------------------------------------- colour images, torch


def _batch(n=8, c=3, h=8, w=8, seed=0):
    import torch

    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def test_augment_batch_draws_what_the_notes_pipeline_draws():
    import torch

    from lessons_lib.data.augment import augment_batch

    out, params = augment_batch(_batch(4000, h=4, w=4), torch.Generator().manual_seed(1), return_params=True)
    assert abs(params["flip"].float().mean().item() - 0.5) < 0.03  # p = 0.5
    angles = params["degrees"]
    assert angles.min() >= -15 and angles.max() <= 15 and angles.min() < -14.5 and angles.max() > 14.5
    assert abs(angles.mean().item()) < 0.5 and abs(angles.std().item() - 30 / 12**0.5) < 0.3  # uniform on [-15, 15]
    for name in ("brightness", "contrast", "saturation"):
        f = params[name]
        assert f.min() >= 0.8 and f.max() <= 1.2 and abs(f.mean().item() - 1.0) < 0.01
    assert out.shape == (4000, 3, 4, 4) and out.min() >= 0 and out.max() <= 1


def test_augment_batch_is_reproducible_and_each_step_does_what_it_says():
    import torch

    from lessons_lib.data.augment import adjust_colour, augment_batch, normalize, rotate

    x = _batch()
    a = augment_batch(x, torch.Generator().manual_seed(3))
    b = augment_batch(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, augment_batch(x, torch.Generator().manual_seed(4)))
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(augment_batch(x, g, flip_p=1, degrees=0, jitter=0), x.flip(-1))
    torch.testing.assert_close(augment_batch(x, g, flip_p=0, degrees=0, jitter=0), x)
    torch.testing.assert_close(rotate(x, 90.0), torch.rot90(x, 1, dims=(-2, -1)), atol=1e-6, rtol=0)  # counter-clockwise
    ones = torch.ones(len(x))
    torch.testing.assert_close(adjust_colour(x, 0.5 * ones, ones, ones), x * 0.5)
    grey = adjust_colour(x, ones, ones, 0 * ones)  # saturation 0: every channel equals the grey value
    torch.testing.assert_close(grey[:, 0], grey[:, 2])
    flat = adjust_colour(x, ones, 0 * ones, ones)  # contrast 0: every pixel is the image's mean grey
    assert torch.allclose(flat, flat[:, :, :1, :1].expand_as(flat))
    torch.testing.assert_close(normalize(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([-1.0, 0.0, 1.0]))


def test_augment_batch_errors_name_the_argument():
    import torch

    from lessons_lib.data.augment import augment_batch

    with pytest.raises(TypeError, match="augment_batch: generator is a int; expected a torch.Generator"):
        augment_batch(_batch(), 0)
    with pytest.raises(ValueError, match=r"augment_batch: x is a Tensor \(3, 8, 8\); expected a float tensor"):
        augment_batch(_batch()[0], torch.Generator())
    with pytest.raises(ValueError, match="augment_batch: flip_p is 1.5"):
        augment_batch(_batch(), torch.Generator(), flip_p=1.5)
