"""Tests for lessons_lib.scratch.perceptron: the neuron, the learning rule, convergence, XOR, and bad input."""

import warnings

import numpy as np
import pytest
import torch
from scipy.optimize import linprog
from sklearn.linear_model import Perceptron as SkPerceptron

from lessons_lib.scratch.perceptron import Perceptron, mistake_bound, neuron, perceptron_update, step

TRUTH = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "XOR": [0, 1, 1, 0]}


def separable(n=100, d=2, gap=0.1, seed=0):
    """Random points labelled by a random hyperplane, keeping only those at distance >= gap from it."""
    rng = np.random.default_rng(seed)
    w_true, b_true = rng.normal(size=d), rng.normal(scale=0.3)
    X = rng.uniform(-2, 2, size=(4 * n, d))
    dist = (X @ w_true + b_true) / np.linalg.norm(w_true)
    X = X[np.abs(dist) >= gap][:n]
    y = (X @ w_true + b_true > 0).astype(int)
    return X, y, w_true, b_true


def strictly_separable(X, y):
    """Linear program: is there (w, b) with (2y - 1)(w . x + b) >= 1 for every example? (scipy's HiGHS)."""
    s = 2 * np.asarray(y) - 1
    A_ub = -s[:, None] * np.c_[X, np.ones(len(X))]  # -(s_i) [x_i, 1] . [w, b] <= -1
    res = linprog(np.zeros(X.shape[1] + 1), A_ub=A_ub, b_ub=-np.ones(len(X)), bounds=[(None, None)] * (X.shape[1] + 1))
    assert res.status in (0, 2), res.message  # 0: feasible, 2: infeasible
    return res.status == 0


# ----------------------------------------------------------------------------------------------- neuron


def test_step_convention_at_zero():
    assert np.array_equal(step(np.array([-1e-12, 0.0, 1e-12, -3.0, 5.0])), [0, 1, 1, 0, 1])
    z = np.array([-2.0, 0.0, 2.0])
    assert np.array_equal(step(z), torch.heaviside(torch.tensor(z), torch.tensor(1.0, dtype=torch.float64)).numpy())


def test_neuron_matches_torch_linear_layer():
    rng = np.random.default_rng(1)
    X, w, b = rng.normal(size=(7, 5)), rng.normal(size=5), 0.3
    z_torch = torch.nn.functional.linear(torch.tensor(X), torch.tensor(w)[None, :], torch.tensor([b], dtype=torch.float64))[:, 0]
    np.testing.assert_allclose(neuron(X, w, b, "identity"), z_torch.numpy(), rtol=1e-12)
    np.testing.assert_allclose(neuron(X, w, b, "sigmoid"), torch.sigmoid(z_torch).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(neuron(X, w, b, "step"), (z_torch >= 0).double().numpy())


def test_neuron_single_example_and_sigmoid_range():
    assert neuron([1.0, 2.0], [0.5, -0.25], 0.0, "identity") == 0.0
    assert neuron([1.0, 2.0], [0.5, -0.25], 0.0) == 1.0  # z = 0 exactly: the step fires
    a = neuron(np.linspace(-30, 30, 101)[:, None], [1.0], 0.0, "sigmoid")
    assert np.all((a > 0) & (a < 1)) and np.all(np.diff(a) > 0)
    np.testing.assert_allclose(neuron([2.0], [1.5], -1.0, "sigmoid"), 1 / (1 + np.exp(-2.0)))


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.ones((2, 3)), np.ones(4), 0.0), "neuron: x has 3 features but w has 4"),
        ((np.ones(3), np.ones(4), 0.0), "neuron: x has 3 features but w has 4"),
        ((np.ones((2, 2, 3)), np.ones(3), 0.0), "expected one example (d,) or a batch (n, d)"),
        ((np.ones(3), np.ones((3, 1)), 0.0), "neuron: w has shape (3, 1)"),
        ((np.ones(3), np.ones(3), [1.0, 2.0]), "neuron: b is"),
        ((np.ones(3), np.ones(3), float("nan")), "neuron: b is nan"),
        ((np.array([1.0, np.nan]), np.ones(2), 0.0), "neuron: x contains nan or inf"),
    ],
)
def test_neuron_errors(args, message):
    with pytest.raises(ValueError) as info:
        neuron(*args)
    assert message in str(info.value)


def test_neuron_unknown_activation():
    unknown = r"neuron: activation 'sigmod' is unknown \(did you mean 'sigmoid'\?\); expected one of step,"
    with pytest.raises(ValueError, match=unknown):
        neuron([1.0], [1.0], 0.0, "sigmod")
    assert neuron([2.0], [1.0], -3.0, "relu") == 0.0  # every activation of the library is available
    with pytest.raises(TypeError, match="x has dtype"):
        neuron(["a", "b"], [1.0, 1.0], 0.0)


def test_hand_weights_truth_tables():
    hand = {"AND": ([1, 1], -1.5), "OR": ([1, 1], -0.5), "NAND": ([-1, -1], 1.5), "NOR": ([-1, -1], 0.5)}
    for gate, (w, b) in hand.items():
        assert np.array_equal(neuron(TRUTH, w, b), GATES[gate]), gate


# ---------------------------------------------------------------------------------------- learning rule


def test_update_cases():
    w, b, x = np.array([1.0, -1.0]), 0.5, np.array([2.0, 1.0])  # z = 1.5, predicts 1
    w1, b1 = perceptron_update(w, b, x, 1, lr=0.5)  # right: no change
    assert np.array_equal(w1, w) and b1 == b
    w2, b2 = perceptron_update(w, b, x, 0, lr=0.5)  # false alarm: subtract
    np.testing.assert_allclose(w2, w - 0.5 * x)
    assert np.isclose(b2, b - 0.5)
    w3, b3 = perceptron_update(-w, -b, x, 1, lr=2.0)  # missed a 1: add
    np.testing.assert_allclose(w3, -w + 2 * x)
    assert np.isclose(b3, -b + 2)
    assert np.array_equal(w, [1.0, -1.0])  # inputs untouched


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "NOR"])
@pytest.mark.parametrize("rng", [None, 0, 7])
def test_linearly_separable_gates_converge(gate, rng):
    p = Perceptron(2, rng=rng).fit(TRUTH, GATES[gate], epochs=50)
    assert p.converged and p.history[-1] == 0 and min(p.history[:-1], default=1) > 0
    assert p.errors(TRUTH, GATES[gate]) == 0
    assert np.array_equal(p.predict(TRUTH), GATES[gate])
    assert len(p.path) == len(p.history) + 1


@pytest.mark.parametrize("rng", [None, 0, 1, 2])
def test_xor_never_reaches_zero_errors(rng):
    p = Perceptron(2, rng=rng).fit(TRUTH, GATES["XOR"], epochs=200)
    assert not p.converged
    assert len(p.history) == 200 and min(p.history) >= 1
    assert p.errors(TRUTH, GATES["XOR"]) >= 1


def test_xor_has_no_linear_separator():
    """A linear program proves it: no (w, b) puts all four XOR points on their correct sides."""
    for gate in ("AND", "OR", "NAND", "NOR"):
        assert strictly_separable(TRUTH, GATES[gate]), gate
    assert not strictly_separable(TRUTH, GATES["XOR"])
    # The same fact by brute force: over a fine grid of lines, one XOR point is always on the wrong side.
    g = np.linspace(-3, 3, 61)
    W1, W2, B = np.meshgrid(g, g, g, indexing="ij")
    Z = W1[..., None] * TRUTH[:, 0] + W2[..., None] * TRUTH[:, 1] + B[..., None]  # (61, 61, 61, 4)
    mistakes = ((Z >= 0).astype(int) != np.array(GATES["XOR"])).sum(axis=-1)
    assert mistakes.min() == 1


@pytest.mark.parametrize("seed, d", [(0, 2), (1, 2), (2, 5), (3, 10)])
def test_convergence_on_random_separable_data_within_the_bound(seed, d):
    X, y, w_true, b_true = separable(n=150, d=d, gap=0.1, seed=seed)
    p = Perceptron(d, lr=0.1, rng=seed).fit(X, y, epochs=1000)
    assert p.converged and p.errors(X, y) == 0
    assert sum(p.history) <= mistake_bound(X, y, w_true, b_true)


def test_learning_rate_does_not_matter_from_zero_weights():
    X, y, _, _ = separable(n=80, seed=4)
    a = Perceptron(2, lr=1.0, rng=3).fit(X, y)
    b = Perceptron(2, lr=0.01, rng=3).fit(X, y)
    assert a.history == b.history
    np.testing.assert_allclose(b.w, 0.01 * a.w)


def test_shuffling_is_reproducible_and_changes_the_order():
    X, y, _, _ = separable(n=80, seed=5)
    h1 = Perceptron(2, rng=11).fit(X, y).history
    h2 = Perceptron(2, rng=np.random.default_rng(11)).fit(X, y).history
    assert h1 == h2
    fixed = Perceptron(2).fit(X, y).history
    assert fixed == Perceptron(2).fit(X, y).history


def test_refit_starts_afresh():
    p = Perceptron(2)
    p.fit(TRUTH, GATES["XOR"], epochs=5)
    p.fit(TRUTH, GATES["AND"], epochs=50)
    assert p.converged and p.history == Perceptron(2).fit(TRUTH, GATES["AND"], epochs=50).history


def test_agrees_with_scikit_learn_on_separable_data():
    """Both reach zero training errors on separable data (their weights need not be equal)."""
    for seed, d in [(0, 2), (1, 3), (2, 8)]:
        X, y, _, _ = separable(n=120, d=d, seed=seed)
        ours = Perceptron(d, rng=seed).fit(X, y, epochs=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ConvergenceWarning either
            sk = SkPerceptron(max_iter=1000, tol=None, random_state=seed).fit(X, y)
        assert ours.errors(X, y) == 0
        assert np.mean(sk.predict(X) == y) == 1.0
    # And on XOR, neither can do better than 3 out of 4.
    sk = SkPerceptron(max_iter=100, tol=None, random_state=0).fit(TRUTH, GATES["XOR"])
    assert np.mean(sk.predict(TRUTH) == GATES["XOR"]) <= 0.75


def test_mistake_bound_checks_its_separator():
    X, y, w_true, b_true = separable(n=50, seed=6)
    assert mistake_bound(X, y, w_true, b_true) >= 1
    with pytest.raises(ValueError, match="does not separate the data strictly"):
        mistake_bound(X, y, -w_true, -b_true)


# --------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_features": 0}, ValueError, "Perceptron: n_features is 0; expected a positive integer"),
        ({"n_features": 2.5}, ValueError, "n_features is 2.5"),
        ({"n_features": 2, "lr": 0}, ValueError, "Perceptron: lr is 0; expected a positive number"),
        ({"n_features": 2, "lr": -0.1}, ValueError, "lr is -0.1"),
        ({"n_features": 2, "lr": float("inf")}, ValueError, "lr is inf"),
        ({"n_features": 2, "rng": "seed"}, TypeError, "Perceptron: rng is 'seed'"),
    ],
)
def test_constructor_errors(kwargs, error, message):
    with pytest.raises(error) as info:
        Perceptron(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (TRUTH, [-1, 1, 1, -1], "Perceptron.fit: y holds labels -1; expected only 0 and 1"),
        (TRUTH, [0, 2, 1, 0], "y holds labels 2; expected only 0 and 1"),
        (TRUTH, [0, 1, 1], "Perceptron.fit: X has 4 rows but y has 3 labels"),
        (np.ones((4, 3)), [0, 1, 1, 0], "Perceptron.fit: x has 3 features but w has 2"),
        (np.ones(2), [0], "Perceptron.fit: X has shape (2,); expected a batch (n, d)"),
        (TRUTH, [[0, 1, 1, 0]], "Perceptron.fit: y has shape (1, 4)"),
    ],
)
def test_fit_errors(X, y, message):
    with pytest.raises(ValueError) as info:
        Perceptron(2).fit(X, y)
    assert message in str(info.value)


def test_fit_epochs_error_and_predict_shapes():
    with pytest.raises(ValueError, match="epochs is 0; expected a positive integer"):
        Perceptron(2).fit(TRUTH, GATES["AND"], epochs=0)
    p = Perceptron(2).fit(TRUTH, GATES["AND"])
    assert isinstance(p.predict([1.0, 1.0]), int) and p.predict(TRUTH).shape == (4,)
    assert p.predict(TRUTH).dtype == np.int64
    with pytest.raises(ValueError, match="x has 3 features but w has 2"):
        p.predict(np.ones((5, 3)))
