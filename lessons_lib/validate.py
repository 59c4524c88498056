"""Argument checks shared by the whole library, one line at each call site.

Each check returns the checked value (converted where that helps) or raises an error that names the
function, the argument, what it got and what was expected, e.g.
``ValueError: toy: n is -3; expected an integer >= 1``. The functions the book shows call these instead
of spelling the checks out, so that they read as maths first.
"""

from __future__ import annotations

import difflib
import math
import numbers


def _shown(value):
    return value if isinstance(value, numbers.Real) and not isinstance(value, bool) else repr(value)


def _range_text(low, high, low_open: bool, high_open: bool) -> str:
    if high is None and low == 0 and low_open:
        return "a positive number"
    if high is None:
        return f"a number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a number {'<' if high_open else '<='} {high:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def number(fn: str, name: str, value, low=None, high=None, *, low_open: bool = False, high_open: bool = False):
    """``value`` itself, if it is a finite real number inside the optional bounds ``[low, high]``.

    ``low_open``/``high_open`` exclude the bound itself (``low=0, low_open=True`` means ``> 0``).
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        want = "a finite number" if low is None and high is None else _range_text(low, high, low_open, high_open)
        raise ValueError(f"{fn}: {name} is {_shown(value)}; expected {want}")
    return value


def scalar(fn: str, name: str, value, low=None, high=None, **bounds) -> float:
    """Like :func:`number`, but a NumPy array holding one value is accepted too; returns a float."""
    import numpy as np

    if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
        value = value.reshape(()).item()
    elif isinstance(value, np.ndarray):
        raise ValueError(f"{fn}: {name} is an array of shape {value.shape}; expected a single finite number")
    return float(number(fn, name, value, low, high, **bounds))


def integer(fn: str, name: str, value, minimum: int | None = None) -> int:
    """``value`` as an int, if it is an integer (not a bool, not a float) and at least ``minimum``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or (minimum is not None and value < minimum):
        want = "an integer" if minimum is None else "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{fn}: {name} is {_shown(value)}; expected {want}")
    return int(value)


def one_of(fn: str, name: str, value, valid):
    """``value`` if it is one of ``valid``; else a ValueError that lists them and suggests the closest."""
    if value in valid:
        return value
    raise unknown(f"{fn}: {name}", value, valid)


def unknown(what: str, value, valid) -> ValueError:
    """The error for a name that is not among ``valid``, with a "did you mean" when one is close."""
    valid = [str(v) for v in valid]
    close = difflib.get_close_matches(str(value), valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"{what} {value!r} is unknown{hint}; expected one of {', '.join(valid)}")


def function(fn: str, name: str, value):
    """``value`` if it is callable."""
    if not callable(value):
        raise TypeError(f"{fn}: {name} is a {type(value).__name__}; expected a function")
    return value


def finite_array(fn: str, name: str, a):
    """``a`` as a NumPy float64 array of finite numbers (bools and integers are converted)."""
    import numpy as np

    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):  # ragged lists
        raise ValueError(f"{fn}: {name} could not be read as an array of numbers; got {a!r}") from None
    if not (arr.dtype == bool or np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{fn}: {name} has dtype {arr.dtype}; expected real numbers")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{fn}: {name} contains nan or inf; expected finite numbers")
    return arr


def as_array(fn: str, name: str, x, *, integers: str = "float"):
    """Return ``(x, xp)``: ``x`` as an array of its own library and that library's array-API namespace.

    Numbers and lists become NumPy float64 arrays; NumPy arrays and torch tensors (any device) stay what
    they are, so autograd keeps working. ``integers`` says what happens to integer and bool arrays:
    ``"float"`` casts them to the library's default float, ``"float64"`` to float64, ``"keep"`` keeps
    integers (labels) as they are.
    """
    import numpy as np
    from array_api_compat import array_namespace

    if isinstance(x, bool):
        raise TypeError(f"{fn}: {name} is {x!r}; expected a number, an array or a tensor")
    if isinstance(x, (list, tuple, numbers.Number)):
        try:
            x = np.asarray(x) if integers == "keep" else np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: {name} could not be read as real numbers; got {x!r}") from None
    try:
        xp = array_namespace(x)
    except TypeError:
        raise TypeError(f"{fn}: {name} is a {type(x).__name__}; expected a number, a list of numbers, "
                        "a NumPy array or a torch tensor") from None
    if xp.isdtype(x.dtype, "real floating") or (integers == "keep" and xp.isdtype(x.dtype, "integral")):
        return x, xp
    if not xp.isdtype(x.dtype, ("integral", "bool")):
        raise TypeError(f"{fn}: {name} has dtype {x.dtype}; expected real numbers")
    return xp.astype(x, xp.float64 if integers == "float64" else xp.empty(0).dtype), xp


def one_library(fn: str, named: dict):
    """The array-API namespace shared by the named arrays (``{name: array}``), or an error that names them:
    arrays from two libraries, or on two devices."""
    from array_api_compat import array_namespace, device

    try:
        xp = array_namespace(*named.values())
    except TypeError:
        kinds = ", ".join(f"{n} is a {type(a).__module__.split('.')[0]} {type(a).__name__}" for n, a in named.items())
        raise TypeError(f"{fn}: {kinds}; convert them to one library (e.g. torch.as_tensor)") from None
    places = {n: str(device(a)) for n, a in named.items()}
    if len(set(places.values())) > 1:
        where = ", ".join(f"{n} on {d}" for n, d in places.items())
        raise ValueError(f"{fn}: the inputs are on different devices ({where}); move them to one")
    return xp
