"""Label-preserving random transformations of images (data augmentation).

Chapter 14 uses :func:`augment` (NumPy) to turn 150 of the 8x8 digits into a larger training set: each copy
is the original turned by a small random angle, moved by a fraction of a pixel and sprinkled with a little
noise, so that it still shows the same digit. Part III uses :func:`augment_batch` (torch, any device), the
source notes' CIFAR-10 pipeline: flip, rotation, colour jitter, then :func:`normalize`.
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


# --------------------------------------------------------------------------------------------------------
# Colour images as torch tensors (Part III): the source notes' CIFAR-10 pipeline, without torchvision


def augment_batch(x, generator, *, flip_p: float = 0.5, degrees: float = 15.0, jitter: float = 0.2,
                  return_params: bool = False):
    """A random, label-preserving version of every image in a batch, each drawn on its own:

    - a horizontal flip with probability ``flip_p``;
    - a rotation about the centre by an angle uniform in [-degrees, degrees] (counter-clockwise positive,
      bilinear, the corners that come from outside the image filled with 0);
    - colour jitter: brightness, contrast and saturation factors each uniform in [1 - jitter, 1 + jitter],
      applied in that order, each followed by clipping to [0, 1] (torchvision's ColorJitter(0.2, 0.2, 0.2)
      draws the same factors; it also shuffles their order).

    x: (N, C, H, W) float tensor with values in [0, 1] (C = 3, or 1 with no saturation step), any device.
    generator: a CPU ``torch.Generator``; the same seed gives the same batch.
    Returns the batch (same shape, device and dtype), and with ``return_params`` also a dict of what was
    drawn: ``flip`` (N,) bool, ``degrees``, ``brightness``, ``contrast``, ``saturation`` (N,) each.
    """
    import torch

    fn = "augment_batch"
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator is a {type(generator).__name__}; expected a torch.Generator "
                        "(torch.Generator().manual_seed(seed))")
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))}"
        raise ValueError(f"{fn}: x is a {got}; expected a float tensor (N, C, H, W) with values in [0, 1]")
    flip_p = validate.number(fn, "flip_p", flip_p, low=0, high=1)
    degrees = validate.number(fn, "degrees", degrees, low=0, high=180)
    jitter = validate.number(fn, "jitter", jitter, low=0, high=1)
    n = x.shape[0]

    def uniform(low, high):  # drawn on the CPU generator, then moved: the same numbers on every device
        return (low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)).to(x.device, x.dtype)

    params = {"flip": (torch.rand(n, generator=generator) < flip_p).to(x.device),
              "degrees": uniform(-degrees, degrees)}
    for name in ("brightness", "contrast", "saturation"):
        params[name] = uniform(1 - jitter, 1 + jitter)
    out = torch.where(params["flip"][:, None, None, None], x.flip(-1), x)
    out = rotate(out, params["degrees"])
    out = adjust_colour(out, params["brightness"], params["contrast"], params["saturation"])
    return (out, params) if return_params else out


def rotate(x, degrees):
    """Turn each image of x (N, C, H, W) about its centre by ``degrees`` (a number or (N,) tensor),
    counter-clockwise as displayed (row 0 at the top), with bilinear interpolation and zeros outside."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = x.shape
    angle = torch.deg2rad(torch.as_tensor(degrees, dtype=x.dtype, device=x.device).expand(n))
    cos, sin = torch.cos(angle), torch.sin(angle)
    # For each output pixel, where to read in the input: the inverse rotation, in grid_sample's [-1, 1]
    # coordinates (x right, y down), corrected for a non-square image.
    theta = torch.stack([torch.stack([cos, -sin * h / w, torch.zeros_like(cos)], 1),
                         torch.stack([sin * w / h, cos, torch.zeros_like(cos)], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def adjust_colour(x, brightness, contrast, saturation):
    """Brightness (scale), contrast (blend with the image's mean grey) and saturation (blend with each
    pixel's grey), one factor per image, clipping to [0, 1] after each step; grey = 0.299 R + 0.587 G + 0.114 B."""
    def per_image(f):
        return f.reshape(-1, 1, 1, 1)

    x = (x * per_image(brightness)).clamp(0, 1)
    grey = _grey(x)
    mean = grey.mean(dim=(1, 2, 3), keepdim=True)
    x = (mean + per_image(contrast) * (x - mean)).clamp(0, 1)
    if x.shape[1] == 3:
        grey = _grey(x)
        x = (grey + per_image(saturation) * (x - grey)).clamp(0, 1)
    return x


def _grey(x):
    if x.shape[1] == 1:
        return x
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def normalize(x, mean: float = 0.5, std: float = 0.5):
    """(x - mean) / std per pixel: the notes' Normalize((0.5,)*3, (0.5,)*3) maps [0, 1] to [-1, 1]."""
    return (x - mean) / std
