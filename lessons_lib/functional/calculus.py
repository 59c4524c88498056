"""Numerical derivatives: the slope of a function at a point, computed from two nearby values (Chapter 2).

``derivative(f, x)`` estimates f'(x) by a central difference, ``partial(f, point, i)`` does the same for one
coordinate of a function of several variables, and ``tangent_line(f, x0)`` returns the line that touches the
curve at x0. They are the reference against which the book checks every derivative worked out by hand, and
the one that torch.autograd gets checked against in the tests.

All three accept Python numbers, lists, NumPy arrays and torch tensors. An array of inputs gives an array of
answers (one derivative per entry), computed in one vectorised call of ``f``; a torch tensor stays a tensor on
its own device, so autograd can even differentiate through the estimate. Integer inputs are converted to
float64, because a difference quotient in low precision is mostly rounding noise (see ``derivative``).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lessons_lib.validate import as_array

__all__ = ["Line", "derivative", "partial", "tangent_line"]


# ----------------------------------------------------------------------------------------- input checks


def _shape(a) -> tuple:
    return tuple(int(s) for s in getattr(a, "shape", ()))


def _check_f(fn: str, f, name: str = "f") -> None:
    if not callable(f):
        raise TypeError(f"{fn}: {name} is of type {type(f).__name__}; expected a function, e.g. lambda x: x**2")


def _check_h(fn: str, h) -> float:
    ok = isinstance(h, numbers.Real) and not isinstance(h, bool) and math.isfinite(h) and h > 0
    if not ok:
        shown = h if isinstance(h, numbers.Real) else repr(h)
        raise ValueError(f"{fn}: h is {shown}; expected a finite step > 0 (1e-5 suits float64)")
    return float(h)


def _as_input(fn: str, name: str, x):
    """Return ``(x, is_number)``: x as a floating array of its own library (numbers and lists become NumPy)."""
    x_in, is_number = x, isinstance(x, numbers.Real) and not isinstance(x, bool)
    x, _ = as_array(fn, name, x_in, integers="float64")  # finite differences need all the precision there is
    return x, is_number


def _call(fn: str, f, *args):
    """Call f, turning the typical 'f is not vectorised' failure into an error that says what to do."""
    try:
        out = f(*args)
    except TypeError as exc:
        shapes = ", ".join(str(_shape(a)) for a in args)
        raise TypeError(
            f"{fn}: f failed on input of shape {shapes} ({exc}); f must work on whole arrays "
            "(use np.sin or torch.sin, not math.sin)"
        ) from exc
    if isinstance(out, numbers.Number) and not isinstance(out, bool):
        out = np.asarray(out, dtype=np.float64)
    return out


def _plain(value, is_number: bool):
    """A float when the input was a plain number, otherwise the array itself."""
    return float(value) if is_number else value


# ------------------------------------------------------------------------------------------- derivative


def derivative(f: Callable, x, h: float = 1e-5):
    """Central-difference estimate of f'(x): ``(f(x + h) - f(x - h)) / (2 h)``.

    f: a function of one variable that works elementwise on arrays (``np.sin``, ``lambda x: x**3``):
       for x of shape S it must return shape S.
    x: a number, list, NumPy array or torch tensor of any shape S: the points where the slope is wanted.
    h: the step, a positive number.
    Returns a float for a number x, else an array (or tensor) of shape S: the slope at each point.

    Why this formula, and how accurate it is. Taylor's theorem gives

        f(x + h) = f(x) + h f'(x) + h^2/2 f''(x) + h^3/6 f'''(x) + ...
        f(x - h) = f(x) - h f'(x) + h^2/2 f''(x) - h^3/6 f'''(x) + ...

    Subtracting cancels the even powers, so ``(f(x + h) - f(x - h)) / (2h) = f'(x) + h^2/6 f'''(x) + ...``.
    The *truncation error* is about ``h^2 |f'''(x)| / 6``: halving h divides it by four. (The one-sided
    ``(f(x + h) - f(x)) / h`` keeps the h^2 term and errs by about ``h |f''(x)| / 2``: halving h only halves it.)

    Floating point adds a *round-off error*. Each value of f carries a relative error of about the machine
    epsilon eps (2.2e-16 in float64, 1.2e-7 in float32), and the subtraction of two nearly equal numbers
    keeps that absolute error while the difference itself shrinks with h; after dividing by 2h it is about
    ``eps |f(x)| / h``, which grows as h shrinks. The total

        E(h) ~ h^2 |f'''| / 6 + eps |f| / h

    is smallest at ``h* = (3 eps |f| / |f'''|)^(1/3)``. With |f| and |f'''| of order 1, that is h* ~ 1e-5 in
    float64 (the default; about 10 correct digits) but h* ~ 7e-3 in float32, where even the best
    step leaves an error of order 1e-6 to 1e-5.
    So: use float64, and for |x| much larger than 1 scale the step with it (``h = 1e-5 * abs(x)``),
    because x + h is itself rounded to about eps |x|.
    """
    h = _check_h("derivative", h)
    x, is_number = _as_input("derivative", "x", x)
    f_plus, f_minus = _elementwise("derivative", f, x + h, x - h)
    return _plain((f_plus - f_minus) / (2 * h), is_number)


def _elementwise(fn: str, f, *points):
    """f at each of ``points`` (arrays of one shape), checking that f gives one output per input."""
    _check_f(fn, f)
    values = [_call(fn, f, p) for p in points]
    for value, p in zip(values, points):
        if _shape(value) != _shape(p):
            raise ValueError(
                f"{fn}: f returned shape {_shape(value)} for x of shape {_shape(p)}; f must give one output "
                "per input (act elementwise). For a function of several variables use partial()"
            )
    return values


def partial(f: Callable, point, i: int, h: float = 1e-5):
    """Central-difference estimate of the partial derivative of f with respect to its i-th argument.

    The other coordinates are held fixed; only coordinate i moves by +-h:
    ``(f(..., p_i + h, ...) - f(..., p_i - h, ...)) / (2 h)``. The accuracy is that of :func:`derivative`.

    f:     a function of n variables, called as ``f(*point)``, e.g. ``cost(m, l)``.
    point: a sequence of n coordinates, e.g. ``(1.0, 2.0)``. Each may also be an array (all broadcastable
           together) to get the partial derivative at many points in one call, e.g. over a grid.
    i:     which coordinate to differentiate along, 0 <= i < n.
    h:     the step, a positive number.
    Returns a float when every coordinate is a number, else an array of the broadcast shape.
    """
    _check_f("partial", f)
    h = _check_h("partial", h)
    if isinstance(point, (str, bytes)) or not hasattr(point, "__len__") or hasattr(point, "shape") and len(point.shape) == 0:
        raise TypeError(f"partial: point is {point!r}; expected a sequence of coordinates, e.g. (m, l) = (1.0, 2.0)")
    n = len(point)
    if n == 0:
        raise ValueError("partial: point is empty; expected at least one coordinate")
    if isinstance(i, bool) or not isinstance(i, numbers.Integral):
        raise TypeError(f"partial: i is {i!r}; expected an integer index from 0 to {n - 1}")
    if not 0 <= i < n:
        raise IndexError(f"partial: i is {i} but point has {n} coordinate{'s' if n != 1 else ''}; expected 0 <= i <= {n - 1}")
    _check_arity(f, n)
    coords, numbers_only = [], True
    for k, c in enumerate(point):
        c, is_number = _as_input("partial", f"point[{k}]", c)
        coords.append(c)
        numbers_only = numbers_only and is_number
    plus, minus = list(coords), list(coords)
    plus[i], minus[i] = coords[i] + h, coords[i] - h
    f_plus, f_minus = _call("partial", f, *plus), _call("partial", f, *minus)
    return _plain((f_plus - f_minus) / (2 * h), numbers_only and _shape(f_plus) == ())


def _check_arity(f, n: int) -> None:
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # some builtins have no signature: let the call speak for itself
        return
    try:
        signature.bind(*range(n))
    except TypeError:
        name = getattr(f, "__name__", "f")
        raise TypeError(f"partial: f is {name}{signature} but point has {n} coordinate{'s' if n != 1 else ''}; "
                        "f is called as f(*point)") from None


# -------------------------------------------------------------------------------------------- tangents


class Line(NamedTuple):
    """A straight line y = slope * x + intercept; call it on x (number or array) to get y."""

    slope: float
    intercept: float

    def __call__(self, x):
        return self.slope * x + self.intercept


def tangent_line(f: Callable, x0, df: Callable | None = None, h: float = 1e-5) -> Line:
    """The tangent to the curve y = f(x) at x0: the line through (x0, f(x0)) with slope f'(x0).

    f:  a function of one variable that works elementwise on arrays.
    x0: where the line touches the curve; a number, or an array for many tangents at once.
    df: the derivative f', if known; otherwise it is estimated with :func:`derivative` and step h.
    Returns ``Line(slope, intercept)`` with ``intercept = f(x0) - slope * x0`` (floats for a number x0,
    arrays of x0's shape otherwise). Near x0 the line and the curve agree to first order:
    ``f(x0 + d) = line(x0 + d) + O(d^2)``.
    """
    _check_f("tangent_line", f)
    if df is not None:
        _check_f("tangent_line", df, "df")
    x0, is_number = _as_input("tangent_line", "x0", x0)
    y0 = _call("tangent_line", f, x0)
    if _shape(y0) != _shape(x0):
        raise ValueError(f"tangent_line: f returned shape {_shape(y0)} for x0 of shape {_shape(x0)}; "
                         "f must give one output per input (act elementwise)")
    slope = derivative(f, x0, h) if df is None else _call("tangent_line", df, x0)
    intercept = y0 - slope * x0
    return Line(_plain(slope, is_number), _plain(intercept, is_number))
