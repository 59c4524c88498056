"""Checking hand-written gradients against finite differences.

The derivative of f at x is approximately the central difference

    (f(x + eps) - f(x - eps)) / (2 eps),

whose error shrinks like eps^2 (a one-sided difference only shrinks like eps). Nudging one entry of an
array at a time gives a numerical gradient to compare with the analytic one that a ``backward`` method
produced. Use float64: in float32 the rounding error of f swamps the tiny difference.

Choosing eps is a trade-off: the truncation error grows like eps^2 while the rounding error of
f(x + eps) - f(x - eps), divided by 2 eps, grows like 1e-16 / eps. The two balance near eps = 1e-5 in
float64, the default here; with eps = 1e-6 the rounding noise is about ten times larger, which is
enough to push small gradient entries (around 1e-4) past a 1e-6 tolerance.

The comparison uses the relative error |a - n| / max(|a|, |n|, tiny). A correct backward pass typically
gives 1e-10 to 1e-7 (the default tolerance is 1e-5); a wrong one usually gives 1e-3 or much more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GradCheckResult", "check_layer", "compare_grads", "numerical_grad"]


def numerical_grad(f, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function, entry by entry.

    Args:
        f: called as ``f(x)``; returns a scalar. It may also ignore its argument and read ``x``
            through a closure (for example a layer's weight array): ``x`` is changed in place.
        x: float64 array of any shape. Each entry is nudged by +-eps and put back afterwards.
        eps: the step.

    Returns:
        array with the shape of ``x``: d f / d x.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"numerical_grad: x must be a float64 numpy array (got {got}); "
                        "finite differences in float32 are dominated by rounding error")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        try:
            x[idx] = original + eps
            f_plus = float(f(x))
            x[idx] = original - eps
            f_minus = float(f(x))
        finally:
            x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


@dataclass
class GradCheckResult:
    """The outcome of one comparison: the worst entry and whether it is within tolerance."""

    name: str
    max_rel_error: float
    index: tuple
    analytic: float
    numeric: float
    ok: bool
    tol: float

    def __str__(self) -> str:
        where = f"{self.name}[{', '.join(str(i) for i in self.index)}]" if self.index else (self.name or "the scalar")
        verdict = "ok" if self.ok else f"FAILED (tolerance {self.tol:.0e})"
        return (f"worst relative error {self.max_rel_error:.1e} at {where}: "
                f"analytic {self.analytic:.6g}, numeric {self.numeric:.6g}  [{verdict}]")

    __repr__ = __str__


def compare_grads(analytic, numeric, name: str = "", tol: float = 1e-5, tiny: float = 1e-10) -> GradCheckResult:
    """Compare two gradients of the same shape entry by entry.

    The relative error of an entry is |a - n| / max(|a|, |n|, tiny): ``tiny`` keeps entries where both are
    essentially zero from dividing by zero. A NaN anywhere counts as an infinite error.

    Returns:
        :class:`GradCheckResult` for the worst entry; ``ok`` is ``max_rel_error <= tol``.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"compare_grads{' ' + name if name else ''}: analytic has shape {a.shape} "
                         f"but numeric has shape {n.shape}")
    if a.size == 0:
        return GradCheckResult(name, 0.0, (), 0.0, 0.0, True, tol)
    rel = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)
    rel = np.where(np.isnan(rel), np.inf, rel)
    index = np.unravel_index(int(np.argmax(rel)), a.shape)
    index = tuple(int(i) for i in index)
    worst = float(rel[index])
    return GradCheckResult(name, worst, index, float(a[index]), float(n[index]), worst <= tol, tol)


def check_layer(layer, x, rng=None, eps: float = 1e-5, tol: float = 1e-5) -> list[GradCheckResult]:
    """Check a layer's ``backward`` against finite differences.

    The test loss is L = sum(layer.forward(x) * R) with R a fixed random array, so dL/d(out) = R:
    the check runs ``backward(R)`` and compares its input gradient, and every parameter's ``.grad``,
    with numerical derivatives of L.

    Args:
        layer: anything with ``forward``, ``backward``, ``parameters()`` and ``zero_grad()`` (a layer
            from :mod:`lessons_lib.scratch.layers`, or a ``Sequential``), built with float64 parameters.
        x: input array, e.g. (N, in_features); converted to float64.

    Returns:
        list of :class:`GradCheckResult`: first ``"x"``, then one per parameter.
    """
    rng = np.random.default_rng(rng)
    x = np.array(x, dtype=np.float64)  # a private copy that we can nudge
    named = _named_parameters(layer)
    for pname, p in named:
        if p.data.dtype != np.float64:
            raise TypeError(f"check_layer: parameter {pname} is {p.data.dtype}; build the layer with "
                            "dtype=np.float64 for a meaningful finite-difference check")
    R = rng.standard_normal(np.shape(layer.forward(x)))
    layer.zero_grad()
    layer.forward(x)
    grad_x = layer.backward(R)

    def loss(_):
        return np.sum(layer.forward(x) * R)

    results = [compare_grads(grad_x, numerical_grad(loss, x, eps), "x", tol)]
    for pname, p in named:
        results.append(compare_grads(p.grad, numerical_grad(loss, p.data, eps), pname, tol))
    return results


def _named_parameters(layer) -> list:
    if hasattr(layer, "named_parameters"):
        return list(layer.named_parameters())
    return [(p.name, p) for p in layer.parameters()]
