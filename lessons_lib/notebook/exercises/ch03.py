"""Checkers for the exercises of Chapter 3 (the artificial neuron and the perceptron).

- :func:`check_perceptron_update`: one step of the perceptron learning rule, written by the reader;
- :func:`check_nand_weights`: hand-chosen weights and bias that make one threshold unit compute NAND;
- :func:`check_xor_network`: two layers of threshold units, chosen by hand, that compute XOR.

The reference answers are the library's own functions (:mod:`lessons_lib.scratch.perceptron`).
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import ERROR, NOT_ATTEMPTED, CheckResult, _short, compare
from lessons_lib.scratch.perceptron import Perceptron, neuron, perceptron_update

TRUTH = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2): the rows of a truth table
NAND = np.array([1, 1, 1, 0])
XOR = np.array([0, 1, 1, 0])
TABLES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "NOR": np.array([1, 0, 0, 0]),
    "XNOR": np.array([1, 0, 0, 1]),
    "NAND": NAND,
    "XOR": XOR,
}


def _gate_name(outputs) -> str | None:
    for name, table in TABLES.items():
        if np.array_equal(outputs, table):
            return name
    return None


# ---------------------------------------------------------------------------------- one update step


def _update_cases() -> list[dict]:
    """Right predictions first (nothing may change), then each kind of mistake, the tie z = 0, other lr."""
    a = np.array
    cases = [
        {"w": a([1.0, -1.0]), "b": 0.5, "x": a([2.0, 1.0]), "y": 1, "lr": 1.0},  # z = 1.5, right
        {"w": a([1.0, -1.0]), "b": -0.5, "x": a([0.0, 2.0]), "y": 0, "lr": 1.0},  # z = -2.5, right
        {"w": a([0.5, 0.5]), "b": -2.0, "x": a([1.0, 1.0]), "y": 1, "lr": 1.0},  # z = -1: missed a 1
        {"w": a([0.5, 0.5]), "b": 0.25, "x": a([1.0, 0.0]), "y": 0, "lr": 1.0},  # z = 0.75: false alarm
        {"w": a([0.2, -0.4, 1.0]), "b": 0.0, "x": a([-1.0, 0.5, 0.3]), "y": 1, "lr": 0.1},  # z = -0.1, lr 0.1
        {"w": a([0.2, -0.4, 1.0]), "b": 0.3, "x": a([1.5, -2.0, 0.5]), "y": 0, "lr": 0.5},  # z = 2.1, lr 0.5
        {"w": a([1.0, -1.0]), "b": 0.0, "x": a([1.0, 1.0]), "y": 1, "lr": 1.0},  # z = 0: step fires, right
        {"w": a([1.0, -1.0]), "b": 0.0, "x": a([3.0, 3.0]), "y": 0, "lr": 1.0},  # z = 0: fires, wrong
    ]
    rng = np.random.default_rng(2024)
    for d in (2, 4, 7):
        for _ in range(4):
            cases.append({"w": rng.normal(size=d), "b": float(rng.normal()), "x": rng.normal(scale=2.0, size=d),
                          "y": int(rng.integers(0, 2)), "lr": float(rng.choice([0.01, 0.3, 1.0, 2.0]))})
    return cases


def _as_pair(got):
    """The reader's answer as (w, b) floats, or None when it is not a pair of a vector and a number."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None
    try:
        w = np.asarray(got[0], dtype=float)
        b = float(np.asarray(got[1], dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None
    return w, b


def _pair_difference(got, expected) -> str | None:
    pair = _as_pair(got)
    ew, eb = expected
    if pair is None:
        return f"got {_short(got)}; expected a pair (new_w, new_b): a vector and a number"
    gw, gb = pair
    if gw.shape != ew.shape:
        return f"new_w has shape {gw.shape}, expected {ew.shape}"
    if np.allclose(gw, ew, rtol=1e-6, atol=1e-9) and np.isclose(gb, eb, rtol=1e-6, atol=1e-9):
        return None
    return f"got new_w = {_short(gw)}, new_b = {gb:.6g}; expected new_w = {_short(ew)}, new_b = {eb:.6g}"


def _z(case) -> float:
    return float(np.dot(case["w"], case["x"]) + case["b"])


def _hint_tie(case, got, expected):
    if _z(case) == 0:
        return ("here z = w·x + b is exactly 0, and in this book step(0) = 1 (the unit fires at the threshold): "
                "predict with z >= 0, not z > 0")
    return None


def _hint_changed_when_right(case, got, expected):
    y_hat = int(_z(case) >= 0)
    if y_hat == case["y"]:
        return (f"the prediction was already right here (z = {_z(case):.3g}, ŷ = {y_hat}, y = {case['y']}), so w and b "
                "must stay as they are: the correction lr·(y − ŷ)·x is zero when ŷ = y")
    return None


def _hint_sign(case, got, expected):
    pair = _as_pair(got)
    w, ew = case["w"], expected[0]
    if pair is not None and pair[0].shape == w.shape and not np.allclose(ew, w) and np.allclose(pair[0], 2 * w - ew):
        return "the correction points the wrong way: it is lr·(y − ŷ)·x, target minus prediction, not (ŷ − y)"
    return None


def _hint_lr(case, got, expected):
    pair = _as_pair(got)
    w, ew, lr = case["w"], expected[0], case["lr"]
    if pair is not None and pair[0].shape == w.shape and lr != 1 and np.allclose(pair[0], w + (ew - w) / lr):
        return "the step ignores the learning rate: multiply the correction (y − ŷ)·x by lr"
    return None


def _hint_bias(case, got, expected):
    pair = _as_pair(got)
    if pair is not None and pair[0].shape == expected[0].shape and np.allclose(pair[0], expected[0]):
        return "the weights are right but the bias is not: update it too, b ← b + lr·(y − ŷ) (the weight of a constant input 1)"
    return None


def check_perceptron_update(fn) -> CheckResult:
    """Check ``fn(w, b, x, y, lr) -> (new_w, new_b)``: one step of the perceptron rule on one example.

    Shapes: w (d,), x (d,), b a number, y 0 or 1, lr > 0. Cases: right predictions (nothing changes), a missed
    1, a false alarm, z exactly 0 (step(0) = 1), learning rates other than 1, random inputs in 2 to 7 dimensions.
    """
    return compare(fn, perceptron_update, _update_cases(), name="perceptron_update", compare_fn=_pair_difference,
                   hints=[_hint_tie, _hint_changed_when_right, _hint_sign, _hint_lr, _hint_bias])


# ------------------------------------------------------------------------------------------ NAND unit


def check_nand_weights(w, b) -> CheckResult:
    """Check that one threshold unit step(w·x + b) with these w (2,) and b computes NAND on {0, 1}²."""
    name = "NAND weights"
    if w is None or b is None:
        return CheckResult(name, NOT_ATTEMPTED, "not attempted yet: give w_nand (two numbers) and b_nand (one number)")
    try:
        outputs = neuron(TRUTH, w, b, "step").astype(int)
    except (TypeError, ValueError) as exc:
        return CheckResult(name, ERROR, f"these weights cannot be used: {exc}")
    z = neuron(TRUTH, w, b, "identity")

    def hint(case, got, expected):
        i = int(np.flatnonzero((TRUTH == case["x"]).all(axis=1))[0])
        gate = _gate_name(outputs)
        if gate == "AND":
            return "your unit computes AND; NAND is its opposite: flip the signs of both weights and of the bias"
        if z[i] == 0:
            return (f"this input lies exactly on your line (z = 0), and step(0) = 1: "
                    f"move the line with the bias so that z is clearly {'negative' if expected == 0 else 'positive'}")
        if outputs.min() == 1:
            return "your unit fires for every input: (1, 1) must get z < 0, so the weights need to be negative"
        if outputs.max() == 0:
            return "your unit never fires: (0, 0) gives z = b, so b must be >= 0"
        return ("NAND is 0 only for (1, 1): you need b >= 0 for (0, 0), w1 + b >= 0 and w2 + b >= 0 for the mixed "
                "inputs, and w1 + w2 + b < 0 for (1, 1)")

    return compare(lambda x: float(outputs[(TRUTH == x).all(axis=1)][0]),
                   lambda x: float(NAND[(TRUTH == x).all(axis=1)][0]),
                   [{"x": row} for row in TRUTH], name=name, hints=[hint])


# ------------------------------------------------------------------------------------ XOR network


def xor_network(X, W_hidden, b_hidden, w_out, b_out):
    """Two layers of threshold units: H = step(X @ W_hidden + b_hidden), out = step(H @ w_out + b_out).

    Shapes in the book's (in, out) layout: X (n, 2), W_hidden (2, k) (column j holds hidden unit j's
    weights), b_hidden (k,), w_out (k,), b_out a number. Returns the outputs (n,) and the hidden values (n, k).
    """
    W_hidden = np.asarray(W_hidden, dtype=float)
    b_hidden = np.asarray(b_hidden, dtype=float)
    if W_hidden.ndim != 2 or W_hidden.shape[0] != 2:
        raise ValueError(f"xor_network: W_hidden has shape {W_hidden.shape}; expected (2, k): one row per input, "
                         "one column per hidden unit")
    if b_hidden.shape != (W_hidden.shape[1],):
        raise ValueError(f"xor_network: b_hidden has shape {b_hidden.shape}; expected ({W_hidden.shape[1]},)")
    H = np.stack([neuron(X, W_hidden[:, j], b_hidden[j], "step") for j in range(W_hidden.shape[1])], axis=1)  # (n, k)
    return neuron(H, w_out, b_out, "step"), H


def check_xor_network(W_hidden, b_hidden, w_out, b_out) -> CheckResult:
    """Check hand-chosen weights for a 2-input network of threshold units that should compute XOR."""
    name = "XOR network"
    if any(v is None for v in (W_hidden, b_hidden, w_out, b_out)):
        return CheckResult(name, NOT_ATTEMPTED, "not attempted yet: give W_hidden, b_hidden, w_out and b_out")
    try:
        outputs, H = xor_network(TRUTH, W_hidden, b_hidden, w_out, b_out)
    except (TypeError, ValueError) as exc:
        return CheckResult(name, ERROR, f"these weights cannot be used: {exc}")
    outputs = outputs.astype(int)

    def hint(case, got, expected):
        if _gate_name(outputs) == "XNOR":
            return "your network computes XNOR, the opposite of XOR: negate the output unit's weights and bias"
        for i in range(4):
            for j in range(i + 1, 4):
                if XOR[i] != XOR[j] and np.array_equal(H[i], H[j]):
                    return (f"inputs {_short(TRUTH[i])} and {_short(TRUTH[j])} get the same hidden values {_short(H[i])}, "
                            "so no output unit can tell them apart; try an OR unit and a NAND unit as the hidden layer")
        if not Perceptron(H.shape[1]).fit(H, XOR, epochs=200).converged:
            return ("in the hidden values XOR is still not linearly separable (a perceptron trained on them never "
                    "reaches zero errors); try an OR unit and a NAND unit as the hidden layer")
        return ("your hidden layer makes XOR linearly separable; now fix the output unit "
                "(with OR and NAND hidden units it must fire only when both fire: an AND)")

    return compare(lambda x: float(outputs[(TRUTH == x).all(axis=1)][0]),
                   lambda x: float(XOR[(TRUTH == x).all(axis=1)][0]),
                   [{"x": row} for row in TRUTH], name=name, hints=[hint])
