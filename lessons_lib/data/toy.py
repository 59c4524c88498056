"""Toy 2-D classification sets made in code, seeded: XOR, moons, circles, spirals, blobs.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.validate import integer, number, unknown

# ------------------------------------------------------------------------------------------- checks






# ------------------------------------------------------------------------------------------- toy sets


def toy(name: str, n: int = 200, noise: float = 0.1, seed: int = 0, classes: int | None = None):
    """A 2-D classification toy set: returns ``X`` (n, 2) float64 and ``y`` (n,) int64 labels.

    name:    ``xor`` (label 1 where the two coordinates have opposite signs), ``moons``, ``circles``,
             ``spirals`` (``classes`` arms, default 2, each winding ``SPIRAL_TURNS`` = 1.5 times round the
             centre), ``blobs`` (``classes`` Gaussian clusters, default 3).
    noise:   standard deviation of the Gaussian noise added to the points.
    """
    makers = {"xor": _xor, "moons": _moons, "circles": circles, "spirals": _spirals, "blobs": _blobs}
    if name not in makers:
        raise unknown("toy: name", name, makers)
    n = integer("toy", "n", n, minimum=1)
    noise = float(number("toy", "noise", noise, 0))
    if classes is not None and name not in ("spirals", "blobs"):
        raise ValueError(f"toy: classes is only for 'spirals' and 'blobs', not {name!r}")
    if classes is not None and (not isinstance(classes, (int, np.integer)) or classes < 2):
        raise ValueError(f"toy: classes is {classes!r}; expected an integer >= 2")
    rng = np.random.default_rng(seed)
    X, y = makers[name](n, noise, rng, classes)
    return X.astype(np.float64), y.astype(np.int64)


def _xor(n, noise, rng, _):
    X = rng.uniform(-1, 1, size=(n, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(int)
    return X + noise * rng.standard_normal((n, 2)), y


def _moons(n, noise, rng, _):
    y = np.arange(n) % 2
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + noise * rng.standard_normal((n, 2)), y


def circles(n, noise, rng, _):
    y = np.arange(n) % 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, 0.5)
    X = radius[:, None] * np.c_[np.cos(t), np.sin(t)]
    return X + noise * rng.standard_normal((n, 2)), y


SPIRAL_TURNS = 1.5  # how many times each spiral arm winds around the centre


def _spirals(n, noise, rng, classes):
    k = classes or 2
    y = np.arange(n) % k
    t = rng.uniform(0.0, 1.0, n)  # how far along its arm a point lies: 0 at the centre, 1 at the outer end
    r = 0.05 + 0.95 * t  # the distance from the centre grows along the arm
    angle = 2 * np.pi * (y / k + SPIRAL_TURNS * t)  # arm y starts a fraction y / k of a turn round
    X = r[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + noise * rng.standard_normal((n, 2)), y


def _blobs(n, noise, rng, classes):
    k = classes or 3
    y = np.arange(n) % k
    centres = 2.0 * np.c_[np.cos(2 * np.pi * np.arange(k) / k), np.sin(2 * np.pi * np.arange(k) / k)]
    return centres[y] + noise * rng.standard_normal((n, 2)), y
