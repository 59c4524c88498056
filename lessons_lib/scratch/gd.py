"""Gradient descent from scratch (Part I, Chapter 7): the one home for its maths in Part I.

- :func:`linreg_mse_grad`: the gradient of the mean squared error of a linear model ŷ = Xw + b;
- :func:`fit_linear_regression`: batch, mini-batch or stochastic gradient descent on that loss, with a
  history of losses and parameters and a ``diverged`` flag instead of an exception;
- :func:`descend`: plain gradient descent on any 2-D function, returning the path of points;
- :func:`quadratic` and :func:`double_well`: test surfaces with their exact gradients.

Every routine stops gracefully when the numbers blow up (a learning rate that is too large): it marks the
run as diverged and returns only finite values, so a plot of the result never shows NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lessons_lib.data.splits import batches
from lessons_lib.validate import integer, scalar

__all__ = [
    "DescentPath",
    "LinRegFit",
    "Surface",
    "descend",
    "double_well",
    "fit_linear_regression",
    "linreg_mse",
    "linreg_mse_grad",
    "quadratic",
]

BLOW_UP = 1e10  # a loss this many times larger than where training started counts as diverged


# ------------------------------------------------------------------------------------------- checks


def _check_xy(fn: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{fn}: X has shape {X.shape}; expected a 2-D array (n samples, d features)")
    if y.ndim != 1:
        raise ValueError(f"{fn}: y has shape {y.shape}; expected a 1-D array of n targets")
    if len(X) != len(y):
        raise ValueError(f"{fn}: X has {len(X)} rows but y has {len(y)} targets")
    if len(X) == 0:
        raise ValueError(f"{fn}: X is empty; expected at least one sample")
    return X, y


def _check_w(fn: str, w, d: int) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    if w.shape != (d,):
        raise ValueError(f"{fn}: w has shape {w.shape} but X has {d} features; expected shape ({d},)")
    return w


# ------------------------------------------------------------------------------------ linear regression


def linreg_mse(X, y, w, b) -> float:
    """Mean squared error of the linear model ŷ = X w + b. X (n, d), y (n,), w (d,), b scalar -> float."""
    X, y = _check_xy("linreg_mse", X, y)
    w = _check_w("linreg_mse", w, X.shape[1])
    residual = y - (X @ w + b)  # (n,)
    return float(np.mean(residual**2))


def linreg_mse_grad(X, y, w, b) -> tuple[np.ndarray, float]:
    """Gradient of MSE(w, b) = (1/n) Σ (y_i − ŷ_i)² for ŷ = X w + b.

    ∂MSE/∂w = −(2/n) Xᵀ (y − ŷ)   and   ∂MSE/∂b = −(2/n) Σ (y_i − ŷ_i).

    X (n, d), y (n,), w (d,), b scalar -> (dw of shape (d,), db a float).
    """
    X, y = _check_xy("linreg_mse_grad", X, y)
    w = _check_w("linreg_mse_grad", w, X.shape[1])
    n = len(y)
    residual = y - (X @ w + b)  # (n,): how far each prediction falls short
    dw = -(2.0 / n) * (X.T @ residual)  # (d, n) @ (n,) -> (d,)
    db = -(2.0 / n) * residual.sum()
    return dw, float(db)


@dataclass
class LinRegFit:
    """The result of :func:`fit_linear_regression`.

    w, b:        the final parameters (the last finite ones if the run diverged).
    epoch_loss:  MSE on all the data before training and after each completed epoch (epochs + 1 values).
    batch_loss:  MSE on the batch that each update used, measured just before that update (one per iteration).
    path:        the parameters (w_1..w_d, b) before training and after each update, shape (iterations + 1, d + 1).
    diverged:    True when a parameter or the loss became inf or nan, or the loss grew ``BLOW_UP`` times
                 beyond its starting size; training stopped there.
    """

    w: np.ndarray
    b: float
    epoch_loss: list[float]
    batch_loss: list[float]
    path: np.ndarray
    diverged: bool = False

    @property
    def iterations(self) -> int:
        """Number of parameter updates made."""
        return len(self.batch_loss)


def _blown_up(loss: float, params, scale: float) -> bool:
    return not (math.isfinite(loss) and loss <= BLOW_UP * scale and np.all(np.isfinite(params)))


def fit_linear_regression(X, y, lr: float, epochs: int, batch_size: int | None = None,
                          rng: np.random.Generator | int | None = None, *, w0=None, b0: float = 0.0) -> LinRegFit:
    """Train ŷ = X w + b by gradient descent on the mean squared error.

    X (n, d), y (n,).
    lr:          the learning rate η: every update is w ← w − η ∂MSE/∂w and b ← b − η ∂MSE/∂b.
    epochs:      number of full passes over the data.
    batch_size:  None for batch (full-data) gradient descent, 1 for stochastic gradient descent, anything
                 in between for mini-batch gradient descent; each epoch then visits the samples in a new
                 random order drawn from ``rng`` (a generator or a seed) and has ceil(n / batch_size) updates.
    w0, b0:      the starting point (default: all zeros).
    Returns a :class:`LinRegFit`. A run that blows up stops early with ``diverged=True``; no exception.
    """
    fn = "fit_linear_regression"
    X, y = _check_xy(fn, X, y)
    n, d = X.shape
    lr = scalar(fn, "lr", lr, 0, low_open=True)
    epochs = integer(fn, "epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = integer(fn, "batch_size", batch_size, minimum=1)
    w = np.zeros(d) if w0 is None else _check_w(fn, w0, d).copy()
    b = float(b0)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    epoch_loss, batch_loss, path = [linreg_mse(X, y, w, b)], [], [np.r_[w, b]]
    scale = max(epoch_loss[0], float(np.mean(y**2)), np.finfo(float).tiny)  # the size of "where we started"
    diverged = not math.isfinite(epoch_loss[0])
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs if not diverged else 0):
            order = [np.arange(n)] if batch_size is None else batches(n, batch_size, rng=rng)
            for idx in order:
                Xb, yb = X[idx], y[idx]
                loss = float(np.mean((yb - (Xb @ w + b)) ** 2))  # forward pass and error on this batch
                dw, db = linreg_mse_grad(Xb, yb, w, b)  # backward pass
                new_w, new_b = w - lr * dw, b - lr * db  # update: a step of size lr against the gradient
                if _blown_up(loss, [*new_w, new_b], scale):
                    diverged = True
                    break
                w, b = new_w, new_b
                batch_loss.append(loss)
                path.append(np.r_[w, b])
            if diverged:
                break
            epoch_loss.append(linreg_mse(X, y, w, b))
            if _blown_up(epoch_loss[-1], w, scale):
                epoch_loss.pop()
                diverged = True
                break
    return LinRegFit(w, b, epoch_loss, batch_loss, np.array(path), diverged)


# --------------------------------------------------------------------------------------- 2-D surfaces


@dataclass(frozen=True)
class Surface:
    """A 2-D function to descend, with its exact gradient.

    f(P):     P of shape (..., 2) -> values of shape (...), e.g. a whole grid for a contour plot.
    grad(P):  P of shape (..., 2) -> gradients of shape (..., 2).
    minima:   the points where it is lowest, shape (k, 2), the global minimum first.
    hessian:  the (2, 2) matrix of second derivatives, for a quadratic (None otherwise).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    minima: np.ndarray
    hessian: np.ndarray | None = None


def quadratic(eigenvalues=(1.0, 10.0), angle: float = 30.0, centre=(0.0, 0.0)) -> Surface:
    """The bowl f(p) = ½ (p − c)ᵀ H (p − c), whose Hessian H has the given eigenvalues.

    The eigenvector of the first eigenvalue points ``angle`` degrees above the x axis. Unequal eigenvalues
    make an ill-conditioned bowl: a long narrow valley with condition number max/min. Gradient descent on
    it converges exactly when 0 < lr < 2 / max(eigenvalues) (the *critical* learning rate).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.shape != (2,) or not np.all(lam > 0):
        raise ValueError(f"quadratic: eigenvalues is {eigenvalues!r}; expected two positive numbers")
    t = np.deg2rad(angle)
    Q = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])  # columns: the two eigenvectors
    H = Q @ np.diag(lam) @ Q.T  # (2, 2), symmetric
    c = np.asarray(centre, dtype=float)

    def f(P):
        D = np.asarray(P, dtype=float) - c  # (..., 2)
        return 0.5 * np.einsum("...i,ij,...j->...", D, H, D)

    def grad(P):
        return (np.asarray(P, dtype=float) - c) @ H  # H is symmetric, so this is H (p − c) for each point

    name = f"quadratic bowl, eigenvalues {lam[0]:g} and {lam[1]:g} (condition number {lam.max() / lam.min():g})"
    return Surface(name, f, grad, c[None, :], H)


def double_well(tilt: float = 0.3) -> Surface:
    """f(x, y) = (x² − 1)² + tilt·x + y²: two valleys near x = −1 and x = +1, the left one lower when tilt > 0.

    A surface with a local minimum that is not the global one: where gradient descent ends up depends on
    where it starts.
    """
    def f(P):
        P = np.asarray(P, dtype=float)
        x, y = P[..., 0], P[..., 1]
        return (x**2 - 1) ** 2 + tilt * x + y**2

    def grad(P):
        P = np.asarray(P, dtype=float)
        x, y = P[..., 0], P[..., 1]
        return np.stack([4 * x * (x**2 - 1) + tilt, 2 * y], axis=-1)

    # the minima solve 4x³ − 4x + tilt = 0 at y = 0: the outer two real roots
    roots = np.sort(np.roots([4.0, 0.0, -4.0, tilt]).real)
    minima = np.array([[roots[0], 0.0], [roots[2], 0.0]])
    if tilt < 0:
        minima = minima[::-1]
    return Surface(f"double well, tilt {tilt:g}", f, grad, minima)


# ------------------------------------------------------------------------------------------- descend


@dataclass
class DescentPath:
    """The points visited by :func:`descend`: ``points`` (k + 1, 2), the start first.

    ``diverged`` is True when a step left the region ``|coordinate| <= bound`` (or became inf or nan);
    the path then ends at the first point outside it, so every stored point is finite.
    """

    points: np.ndarray
    lr: float
    diverged: bool = False

    @property
    def steps(self) -> int:
        """Number of steps taken (stored points minus one)."""
        return len(self.points) - 1


def descend(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr: float, steps: int, *,
            bound: float = 1e6) -> DescentPath:
    """Plain gradient descent x ← x − lr · ∇f(x) from ``x0`` (shape (2,)) for ``steps`` steps.

    grad_fn(x) returns the gradient at x, shape (2,). The run stops early, marked diverged, at the first
    point with a coordinate beyond ``bound`` in size (or not finite); that point is kept, clipped to
    ±bound, so the path shows where it was heading and stays plottable.
    """
    x = np.asarray(x0, dtype=float)
    if x.shape != (2,):
        raise ValueError(f"descend: x0 has shape {x.shape}; expected a point of shape (2,)")
    lr = scalar("descend", "lr", lr, 0, low_open=True)
    steps = integer("descend", "steps", steps, minimum=0)
    bound = scalar("descend", "bound", bound, 0, low_open=True)
    points, diverged = [x], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = np.asarray(grad_fn(x), dtype=float)
            if g.shape != (2,):
                raise ValueError(f"descend: grad_fn returned shape {g.shape}; expected (2,)")
            x = x - lr * g
            if not np.all(np.isfinite(x)) or np.any(np.abs(x) > bound):
                points.append(np.clip(np.nan_to_num(x, nan=bound, posinf=bound, neginf=-bound), -bound, bound))
                diverged = True
                break
            points.append(x)
    return DescentPath(np.array(points), lr, diverged)
