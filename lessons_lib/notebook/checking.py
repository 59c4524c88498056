"""Exercise checkers and ``show``, which displays a library function's source in a notebook.

A checker runs the reader's function and a reference solution on the same inputs, random and extreme,
and reports either a pass or the first input where they disagree, what came back, what was expected and,
where it helps, a hint. A function whose body still raises ``NotImplementedError`` is reported as "not
attempted yet" and does not stop the notebook. The chapter checkers themselves live in
``lessons_lib.notebook.exercises``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"


_ICONS = {PASSED: "\u2705", FAILED: "\u274c", NOT_ATTEMPTED: "\u270f\ufe0f", ERROR: "\u274c"}


# ------------------------------------------------------------------------------------------- checkers


@dataclass
class CheckResult:
    """What a checker found. ``passed`` is True only when every case matched."""

    name: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        return f"{_ICONS[self.status]} {self.name}: {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return f"{_ICONS[self.status]} **{self.name}**: {self.message}"


Case = dict[str, Any]


Hint = Callable[[Case, Any, Any], "str | None"]


def compare(
    fn: Callable,
    reference: Callable,
    cases: Sequence[Case],
    *,
    name: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hints: Sequence[Hint] = (),
    compare_fn: Callable[[Any, Any], str | None] | None = None,
    describe: Callable[[Case], str] | None = None,
    numbered: bool = False,
) -> CheckResult:
    """Check ``fn`` against ``reference`` on every case (a dict of keyword arguments).

    Returns at the first disagreement with a diagnosis naming the input, the value returned and the
    value expected, plus the first hint (a function of case, got and expected) that has something to say.
    ``compare_fn(got, expected)`` may replace the numerical comparison; it returns None when they agree,
    else a description of the difference. ``describe(case)`` may replace the default description of a case
    (every argument's value), e.g. to name random matrices by their shapes; ``numbered`` adds "case k of n" to a
    failure, useful when cases are described by their shapes only.
    """
    describe = describe or describe_case
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    for k, case in enumerate(cases, 1):
        expected = reference(**copy.deepcopy(case))
        try:
            got = fn(**copy.deepcopy(case))
        except NotImplementedError:
            return CheckResult(name, NOT_ATTEMPTED, NOT_ATTEMPTED_MESSAGE)
        except Exception as exc:  # the reader's bug, reported rather than raised
            return CheckResult(name, ERROR, f"raised {type(exc).__name__}: {exc} for {describe(case)}")
        problem = compare_fn(got, expected) if compare_fn else _numeric_difference(got, expected, rtol, atol)
        if problem:
            where = f"{describe(case)}, case {k} of {len(cases)}" if numbered else describe(case)
            message = f"fails for {where}: {problem}"
            for hint in hints:
                text = hint(case, got, expected)
                if text:
                    message += f". Hint: {text}"
                    break
            return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


NOT_ATTEMPTED_MESSAGE = "not attempted yet: replace `raise NotImplementedError` with your code"


def attempt(name: str, fn: Callable, *args, where: str = "", **kwargs) -> tuple[Any, CheckResult | None]:
    """Call the reader's ``fn``. Returns ``(result, None)``, or ``(None, a CheckResult)`` that says the stub
    is not attempted yet or what it raised (``for {where}`` when given): the reader's bug is reported, never
    raised into the notebook."""
    if not callable(fn):
        return None, CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, CheckResult(name, NOT_ATTEMPTED, NOT_ATTEMPTED_MESSAGE)
    except Exception as exc:
        return None, CheckResult(name, ERROR, f"raised {type(exc).__name__}: {exc}" + (f" for {where}" if where else ""))


def compare_parts(names: Sequence[str], rtol: float = 1e-6, atol: float = 1e-8) -> Callable[[Any, Any], str | None]:
    """A ``compare_fn`` for answers that are tuples of arrays: names the first part that is missing or wrong."""

    def compare_fn(got, expected) -> str | None:
        parts = as_arrays(got, len(names))
        if parts is None:
            kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
            return f"got {kind}, expected a tuple of {len(names)} arrays ({', '.join(names)})"
        for name, g, e in zip(names, parts, expected):
            e = np.asarray(_to_numpy(e), dtype=float)
            if g.shape != e.shape:
                return f"{name} has shape {g.shape}, expected {e.shape}"
            if np.isnan(g).any():
                return f"{name} contains nan"
            if not np.allclose(g, e, rtol=rtol, atol=atol):
                shown = f" ({_short(g)}, expected {_short(e)})" if g.size <= 8 else ""
                return f"{name} is wrong{shown}: worst entry off by {np.max(np.abs(g - e)):.3g}"
        return None

    return compare_fn


def same_values(a, b, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """True when ``a`` and ``b`` (numbers, arrays, lists or torch tensors) have one shape and close values.

    Never raises: anything that is not numeric counts as different. Checkers use it inside hints.
    """
    try:
        a = np.asarray(_to_numpy(a), dtype=float)
        b = np.asarray(_to_numpy(b), dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def as_arrays(got, n: int) -> list[np.ndarray] | None:
    """The reader's answer as a list of ``n`` float arrays, or None when it is not a tuple/list of n array-likes."""
    if not isinstance(got, (tuple, list)) or len(got) != n:
        return None
    try:
        return [np.asarray(_to_numpy(g), dtype=float) for g in got]
    except (TypeError, ValueError):
        return None


def _numeric_difference(got, expected, rtol, atol) -> str | None:
    try:
        g = np.asarray(_to_numpy(got), dtype=float)
    except (TypeError, ValueError):
        return f"got {_short(got)} ({type(got).__name__}), expected a number or array like {_short(expected)}"
    e = np.asarray(_to_numpy(expected), dtype=float)
    if g.shape != e.shape:
        return f"got shape {g.shape}, expected shape {e.shape}"
    if np.isnan(g).any() and not np.isnan(e).any():
        return f"got {_short(g)}, expected {_short(e)} (your result contains nan)"
    if np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
        return None
    return f"got {_short(g)}, expected {_short(e)}"


def _to_numpy(x):
    if hasattr(x, "detach"):  # torch tensors
        return x.detach().cpu().numpy()
    return x


def _short(x) -> str:
    if isinstance(x, np.ndarray) or hasattr(x, "shape"):
        arr = np.asarray(_to_numpy(x))
        if arr.ndim == 0:
            return f"{arr.item():.6g}"
        return np.array2string(arr, precision=4, threshold=12, edgeitems=3, separator=", ").replace("\n", "")
    if isinstance(x, float):
        return f"{x:.6g}"
    return repr(x)


def describe_case(case: Case) -> str:
    """Render a checker case compactly: ``z = -800.0, w = [1, 2]``."""
    return ", ".join(f"{k} = {_short(v)}" for k, v in case.items())
