"""Checkers for the exercises of Chapter 9 (frameworks and PyTorch tensors).

- :func:`check_broadcast_shape`: the shape two operands broadcast to, or a ``ValueError`` when they cannot,
  checked against ``torch.broadcast_shapes`` on random and edge-case pairs.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solution is
:func:`broadcast_shape_reference`.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare

__all__ = ["broadcast_shape_reference", "check_broadcast_shape"]

_ERROR = "ValueError"  # what the expected outcome is when the shapes cannot be broadcast


def broadcast_shape_reference(shape_a, shape_b):
    """The broadcast shape of two shapes (tuples of non-negative ints), or ValueError if incompatible.

    Rule: align the shapes at their last dimension, pad the shorter one with 1s on the left; in each
    position the sizes must be equal or one of them 1, and the result takes the other size.
    """
    n = max(len(shape_a), len(shape_b))
    a = (1,) * (n - len(shape_a)) + tuple(shape_a)  # pad on the left
    b = (1,) * (n - len(shape_b)) + tuple(shape_b)
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise ValueError(f"shapes {tuple(shape_a)} and {tuple(shape_b)} cannot be broadcast: "
                             f"sizes {p} and {q} at dimension {i - n} differ and neither is 1")
        out.append(q if p == 1 else p)
    return tuple(out)


def _torch_outcome(shape_a, shape_b):
    """What torch says: the broadcast shape as a tuple, or the marker for an error."""
    import torch

    try:
        return tuple(torch.broadcast_shapes(tuple(shape_a), tuple(shape_b)))
    except RuntimeError:
        return _ERROR


def _reader_outcome(fn):
    """Run the reader's function; a ValueError becomes the error marker, other exceptions a description."""

    def run(shape_a, shape_b):
        try:
            got = fn(shape_a, shape_b)
        except NotImplementedError:
            raise
        except ValueError:
            return _ERROR
        except Exception as exc:  # reported as a wrong kind of error, with a hint
            return ("raised", type(exc).__name__, str(exc)[:80])
        return got

    return run


def _as_shape(got):
    if isinstance(got, (str, bytes)) or not hasattr(got, "__iter__"):
        return None
    try:
        items = list(got)
    except TypeError:
        return None
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in items):
        return None
    return tuple(int(s) for s in items)


def _compare(got, expected) -> str | None:
    if isinstance(got, tuple) and len(got) == 3 and got[0] == "raised":
        want = "a ValueError" if expected == _ERROR else f"the shape {expected}"
        return f"your function raised {got[1]}: {got[2]}, expected {want}"
    if expected == _ERROR:
        if got == _ERROR:
            return None
        return f"got {got!r}, expected a ValueError (these shapes cannot be broadcast)"
    if got == _ERROR:
        return f"your function raised ValueError, expected the shape {expected}"
    shape = _as_shape(got)
    if shape is None:
        return f"got {type(got).__name__} {got!r:.60}, expected a tuple of ints such as {expected}"
    if shape != expected:
        return f"got the shape {shape}, expected {expected}"
    return None


def _left_aligned(a, b):
    """A typical mistake: padding the shorter shape on the right instead of the left."""
    n = max(len(a), len(b))
    a, b = tuple(a) + (1,) * (n - len(a)), tuple(b) + (1,) * (n - len(b))
    if any(p != q and 1 not in (p, q) for p, q in zip(a, b)):
        return _ERROR
    return tuple(q if p == 1 else p for p, q in zip(a, b))


def _hint_wrong_error_type(case, got, expected):
    if isinstance(got, tuple) and len(got) == 3 and got[0] == "raised":
        return "signal incompatible shapes with `raise ValueError(...)`; other errors mean a bug in the function"
    return None


def _hint_left_aligned(case, got, expected):
    a, b = case["shape_a"], case["shape_b"]
    if len(a) != len(b) and _as_shape(got) is not None and _as_shape(got) == _left_aligned(a, b) != expected:
        return "align the shapes at their LAST dimension: pad the shorter shape with 1s on the left, not the right"
    if len(a) != len(b) and got == _ERROR and _left_aligned(a, b) == _ERROR:
        return "align the shapes at their LAST dimension: pad the shorter shape with 1s on the left, not the right"
    return None


def _hint_missing_check(case, got, expected):
    if expected == _ERROR and got != _ERROR:
        return "two sizes in the same position must be equal or one of them must be 1; otherwise raise ValueError"
    return None


def _hint_length(case, got, expected):
    shape = _as_shape(got)
    if expected != _ERROR and shape is not None and len(shape) != len(expected):
        return (f"the result has as many dimensions as the longer shape ({len(expected)} here); "
                "the shorter one counts as padded with 1s on the left")
    return None


def _hint_zero(case, got, expected):
    shape = _as_shape(got)
    if expected != _ERROR and shape is not None and len(shape) == len(expected):
        if any(g == 1 and e == 0 for g, e in zip(shape, expected)):
            return "a size of 1 stretches to the other size, even when that size is 0: the result is not max(p, q)"
    return None


def _broadcast_cases(seed: int = 9) -> list[dict]:
    cases = [
        {"shape_a": (3,), "shape_b": (3,)},
        {"shape_a": (2, 3), "shape_b": (3,)},
        {"shape_a": (4, 1), "shape_b": (3,)},
        {"shape_a": (2, 3), "shape_b": (2,)},
        {"shape_a": (), "shape_b": (2, 3)},
        {"shape_a": (5, 1, 4), "shape_b": (3, 1)},
        {"shape_a": (8, 1, 6, 1), "shape_b": (7, 1, 5)},
        {"shape_a": (2, 1), "shape_b": (8, 4, 3)},
        {"shape_a": (1, 0), "shape_b": (3, 1)},
        {"shape_a": (0,), "shape_b": (1,)},
        {"shape_a": (0,), "shape_b": (3,)},
        {"shape_a": (), "shape_b": ()},
    ]
    rng = np.random.default_rng(seed)
    for _ in range(40):
        na, nb = rng.integers(0, 5, size=2)
        a = [int(s) for s in rng.choice([1, 2, 3, 4], size=na)]
        b = [int(s) for s in rng.choice([1, 2, 3, 4], size=nb)]
        if rng.random() < 0.6:  # make most pairs compatible: copy or set to 1 along the aligned tail
            for k in range(1, min(na, nb) + 1):
                if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                    if rng.random() < 0.5:
                        b[-k] = a[-k]
                    else:
                        a[-k] = 1
        cases.append({"shape_a": tuple(a), "shape_b": tuple(b)})
    return cases


_BROADCAST_CASES = _broadcast_cases()


def check_broadcast_shape(fn) -> CheckResult:
    """Check ``fn(shape_a, shape_b)``: it returns the broadcast shape (a tuple of ints) or raises ValueError.

    The expected answers come from ``torch.broadcast_shapes`` on 52 pairs of shapes: hand-picked ones
    (different lengths, scalars ``()``, sizes 0 and 1) and random ones, some of them incompatible.
    """
    return compare(
        _reader_outcome(fn),
        _torch_outcome,
        _BROADCAST_CASES,
        name="broadcast_shape",
        compare_fn=_compare,
        hints=[_hint_wrong_error_type, _hint_missing_check, _hint_left_aligned, _hint_length, _hint_zero],
    )
