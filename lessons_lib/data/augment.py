"""Label-preserving random transformations of small grey-scale images (data augmentation), in NumPy.

Chapter 14 uses :func:`augment` to turn 150 of the 8x8 digits into a larger training set: each copy is the
original turned by a small random angle, moved by a fraction of a pixel and sprinkled with a little noise,
so that it still shows the same digit.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib import validate


def augment(X, rng, *, max_degrees: float = 12.0, max_shift: float = 1.0, noise: float = 0.05) -> np.ndarray:
    """A randomly transformed copy of every image in ``X``: rotate, shift, add noise, clip to [0, 1].

    X:   (n, H, W) images, or (n, H*W) square images flattened row by row (the 8x8 digits as (n, 64)),
         with pixel values in [0, 1].
    rng: a ``numpy.random.Generator``; the same seed gives the same copies.
    max_degrees: each image turns about its centre by an angle drawn uniformly from [-max_degrees, max_degrees].
    max_shift:   and moves by a shift drawn uniformly from [-max_shift, max_shift] pixels along each axis
                 (sub-pixel shifts are allowed: both steps interpolate bilinearly, filling with 0 at the edges).
    noise:       then gets Gaussian noise of standard deviation ``noise`` added to every pixel.
    Returns a float64 array of the shape of ``X``, values in [0, 1]. With all three strengths 0 it returns
    ``X`` unchanged (as float64).
    """
    from scipy import ndimage

    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"augment: rng is a {type(rng).__name__}; expected a numpy.random.Generator "
                        "(np.random.default_rng(seed))")
    max_degrees = validate.number("augment", "max_degrees", max_degrees, low=0)
    max_shift = validate.number("augment", "max_shift", max_shift, low=0)
    noise = validate.number("augment", "noise", noise, low=0)
    X = np.asarray(X, dtype=np.float64)
    images = _as_images(X)                                      # (n, H, W)
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"augment: X has values in [{images.min():g}, {images.max():g}]; expected pixel values in [0, 1]")
    out = np.empty_like(images)
    for i, image in enumerate(images):
        a = ndimage.rotate(image, rng.uniform(-max_degrees, max_degrees), reshape=False, order=1)
        a = ndimage.shift(a, rng.uniform(-max_shift, max_shift, size=2), order=1)
        a = a + rng.normal(0.0, noise, a.shape)
        out[i] = np.clip(a, 0.0, 1.0)
    return out.reshape(X.shape)


def _as_images(X: np.ndarray) -> np.ndarray:
    """(n, H, W) images from (n, H, W) or from (n, H*W) flattened square images."""
    if X.ndim == 3:
        return X
    if X.ndim == 2:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise ValueError(f"augment: X has shape {X.shape}, and {X.shape[1]} pixels do not make a square image; "
                             "pass (n, H, W) images instead")
        return X.reshape(len(X), side, side)                    # (n, H*W) -> (n, H, W)
    raise ValueError(f"augment: X has shape {X.shape}; expected (n, H, W) images or (n, H*W) flattened square images")
