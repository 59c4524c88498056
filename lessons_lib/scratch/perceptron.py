"""The artificial neuron and Rosenblatt's perceptron (Chapter 3), in NumPy.

- :func:`neuron`: one artificial neuron, ``activation(x @ w + b)``, for one example or a batch;
- :func:`step`: the threshold (Heaviside) activation, with the convention ``step(0) = 1``;
- :func:`perceptron_update`: one application of the perceptron learning rule to one example;
- :class:`Perceptron`: a single threshold unit trained with that rule, epoch by epoch;
- :func:`mistake_bound`: the bound of the perceptron convergence theorem for a given separating line.

Labels are 0 and 1 throughout (not -1 and +1). Inputs are real numbers; 0/1 inputs such as the rows
of a truth table are just a special case.
"""

from __future__ import annotations

import numbers

import numpy as np

from lessons_lib.functional.activations import ACTIVATIONS, step
from lessons_lib.validate import finite_array, integer, one_of, scalar

__all__ = ["neuron", "step", "perceptron_update", "Perceptron", "mistake_bound"]

# ``step`` lives in lessons_lib.functional.activations (one home per function) and is re-exported here:
# step(z) = 1 where z >= 0, else 0. At exactly z = 0 the unit fires (outputs 1), as torch.heaviside(z, 1).


# --------------------------------------------------------------------------------------------- checks


def _weights(fn: str, w) -> np.ndarray:
    w = finite_array(fn, "w", w)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{fn}: w has shape {w.shape}; expected a non-empty vector of shape (d,)")
    return w


def _inputs(fn: str, x, d: int) -> np.ndarray:
    x = finite_array(fn, "x", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"{fn}: x has shape {x.shape}; expected one example (d,) or a batch (n, d)")
    if x.shape[-1] != d:
        raise ValueError(f"{fn}: x has {x.shape[-1]} features but w has {d}")
    return x


def _labels(fn: str, y, n: int) -> np.ndarray:
    y = finite_array(fn, "y", y)
    if y.ndim != 1:
        raise ValueError(f"{fn}: y has shape {y.shape}; expected a vector of n labels")
    if len(y) != n:
        raise ValueError(f"{fn}: X has {n} rows but y has {len(y)} labels")
    bad = np.unique(y[(y != 0) & (y != 1)])
    if bad.size:
        shown = ", ".join(f"{v:g}" for v in bad[:5])
        raise ValueError(f"{fn}: y holds labels {shown}; expected only 0 and 1 (for -1/+1 labels pass (y + 1) / 2)")
    return y.astype(np.int64)


# --------------------------------------------------------------------------------------------- neuron


def neuron(x, w, b, activation: str = "step"):
    """One artificial neuron: the weighted sum of the inputs plus the bias, passed through an activation.

    x:          one example, shape (d,), or a batch, shape (n, d); any real numbers.
    w:          the weights, shape (d,), one per input.
    b:          the bias, a single number.
    activation: a name in ``lessons_lib.functional.activations.ACTIVATIONS``: ``"step"`` (1 where z >= 0,
                else 0: a perceptron), ``"sigmoid"`` (1 / (1 + e^-z), in (0, 1)), ``"identity"`` (z itself,
                the raw weighted sum), ``"relu"``, ``"tanh"``, ...
    Returns a float for one example, an array of shape (n,) for a batch.
    """
    f, _ = ACTIVATIONS[one_of("neuron", "activation", activation, ACTIVATIONS)]
    w = _weights("neuron", w)
    x = _inputs("neuron", x, len(w))
    b = scalar("neuron", "b", b)
    z = x @ w + b  # (n,) for a batch, () for one example
    a = f(z)
    return float(a) if x.ndim == 1 else a


# ------------------------------------------------------------------------------------------ learning


def perceptron_update(w, b, x, y, lr: float = 1.0):
    """One step of the perceptron learning rule on one example (x, y); returns the new ``(w, b)``.

        y_hat = step(w . x + b)
        w  <-  w + lr * (y - y_hat) * x
        b  <-  b + lr * (y - y_hat)

    y - y_hat is 0 when the prediction is right (nothing changes), +1 when the unit missed a 1 (x is added,
    so w . x grows) and -1 when it fired on a 0 (x is subtracted). The inputs are not modified.
    Shapes: w (d,), x (d,), b a number, y 0 or 1.
    """
    error = y - step(np.dot(w, x) + b)  # -1, 0 or +1
    return w + lr * error * x, b + lr * error


class Perceptron:
    """A single threshold unit trained with Rosenblatt's perceptron rule.

    n_features: d, the number of inputs.
    lr:         the learning rate, > 0. Starting from zero weights it only rescales w and b, so it does not
                change any prediction (Exercise 3 of the chapter asks why).
    rng:        how the examples are ordered in each epoch: None visits them in the given order; a seed or a
                ``numpy.random.Generator`` shuffles them afresh every epoch with that generator.

    After :meth:`fit`: ``w`` (d,) and ``b``, ``history`` (the number of mistakes made in each epoch),
    ``path`` (the (w, b) pair before training and after every epoch) and ``converged`` (True when an epoch
    made no mistake, which stops training early).
    """

    def __init__(self, n_features: int, lr: float = 1.0, rng=None):
        n_features = integer("Perceptron", "n_features", n_features, minimum=1)
        lr = scalar("Perceptron", "lr", lr, 0, low_open=True)
        if isinstance(rng, bool) or not (rng is None or isinstance(rng, (numbers.Integral, np.random.Generator))):
            raise TypeError(f"Perceptron: rng is {rng!r}; expected None, an integer seed or a numpy.random.Generator")
        self.n_features = int(n_features)
        self.lr = float(lr)
        self.rng = np.random.default_rng(rng) if rng is not None else None
        self._reset()

    def _reset(self) -> None:
        self.w = np.zeros(self.n_features)
        self.b = 0.0
        self.history: list[int] = []
        self.path: list[tuple[np.ndarray, float]] = [(self.w.copy(), self.b)]
        self.converged = False

    def decision_function(self, X) -> np.ndarray:
        """The weighted sum z = X @ w + b, shape (n,) for X of shape (n, d) (a float for one example)."""
        return neuron(X, self.w, self.b, "identity")

    def predict(self, X):
        """Predicted labels step(X @ w + b): int array (n,) for X (n, d), a single int for x (d,)."""
        out = neuron(X, self.w, self.b, "step")
        return int(out) if np.ndim(out) == 0 else out.astype(np.int64)

    def errors(self, X, y) -> int:
        """How many of the examples (X, y) the current weights misclassify."""
        X = _inputs("Perceptron.errors", X, self.n_features)
        y = _labels("Perceptron.errors", y, len(np.atleast_2d(X)))
        return int(np.sum(self.predict(np.atleast_2d(X)) != y))

    def fit(self, X, y, epochs: int = 100) -> Perceptron:
        """Train from zero weights with the perceptron rule; returns self.

        X: (n, d) real inputs; y: (n,) labels 0 or 1; epochs: the most passes over the data.
        Each epoch visits every example once and updates w and b after each mistake. Training stops
        early after the first epoch without a mistake (``converged`` becomes True); on data that no line
        can separate that never happens, and training runs for all ``epochs``.
        """
        X = _inputs("Perceptron.fit", X, self.n_features)
        if X.ndim != 2:
            raise ValueError(f"Perceptron.fit: X has shape {X.shape}; expected a batch (n, d)")
        y = _labels("Perceptron.fit", y, len(X))
        epochs = integer("Perceptron.fit", "epochs", epochs, minimum=1)
        self._reset()
        w, b = self.w, self.b
        for _ in range(epochs):
            order = self.rng.permutation(len(X)) if self.rng is not None else range(len(X))
            mistakes = 0
            for i in order:
                if step(np.dot(w, X[i]) + b) != y[i]:  # a mistake: apply the rule (it changes nothing otherwise)
                    mistakes += 1
                    w, b = perceptron_update(w, b, X[i], y[i], self.lr)
            self.history.append(mistakes)
            self.path.append((w.copy(), float(b)))
            if mistakes == 0:
                self.converged = True
                break
        self.w, self.b = w, float(b)
        return self

    def __repr__(self) -> str:
        state = f"converged after {len(self.history)} epochs" if self.converged else f"{len(self.history)} epochs"
        return f"Perceptron(n_features={self.n_features}, lr={self.lr:g}, {state}, w={np.round(self.w, 3)}, b={self.b:.3g})"


# ---------------------------------------------------------------------------------- convergence bound


def mistake_bound(X, y, w, b) -> float:
    """The perceptron convergence theorem's bound (R / gamma)^2 on the number of updates.

    (w, b) must separate the data strictly: w . x + b > 0 for every label 1 and < 0 for every label 0.
    With x~ = (x, 1) and u = (w, b) / |(w, b)|, R = max |x~| and gamma = min (2y - 1) u . x~ > 0, and the
    theorem (Novikoff, 1962) says that the perceptron, started from zero weights, with any lr > 0 and any
    order of the examples, makes at most (R / gamma)^2 updates in total. Shapes: X (n, d), y (n,), w (d,).
    """
    w = _weights("mistake_bound", w)
    X = _inputs("mistake_bound", X, len(w))
    if X.ndim != 2:
        raise ValueError(f"mistake_bound: X has shape {X.shape}; expected a batch (n, d)")
    y = _labels("mistake_bound", y, len(X))
    b = scalar("mistake_bound", "b", b)
    Xa = np.c_[X, np.ones(len(X))]  # (n, d + 1): the bias becomes the weight of a constant input 1
    u = np.r_[w, b] / np.linalg.norm(np.r_[w, b])
    margins = (2 * y - 1) * (Xa @ u)
    if margins.min() <= 0:
        raise ValueError("mistake_bound: (w, b) does not separate the data strictly; no bound follows from it")
    R = np.linalg.norm(Xa, axis=1).max()
    return float((R / margins.min()) ** 2)
