"""Gradient descent from scratch (lessons_lib.scratch.gd): gradients, convergence, divergence, bad arguments."""

import warnings

import numpy as np
import pytest
import torch

from lessons_lib.data.tables import employee_bonus
from lessons_lib.scratch.gd import descend, double_well, fit_linear_regression, linreg_mse, linreg_mse_grad, quadratic
from lessons_lib.scratch.gradcheck import compare_grads, numerical_grad


def _problem(n=50, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.7 + 0.1 * rng.normal(size=n)
    return X, y, rng.normal(size=d), float(rng.normal())


def _lstsq(X, y):
    sol = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    return sol[:-1], sol[-1]


# ------------------------------------------------------------------------------------------- gradient


@pytest.mark.parametrize("n, d", [(1, 1), (7, 1), (30, 4)])
def test_linreg_grad_matches_finite_differences(n, d):
    X, y, w, b = _problem(n, d, seed=n + d)
    dw, db = linreg_mse_grad(X, y, w, b)
    theta = np.r_[w, b]
    numeric = numerical_grad(lambda t: linreg_mse(X, y, t[:-1], t[-1]), theta)
    result = compare_grads(np.r_[dw, db], numeric, "theta")
    assert result.ok, result
    assert dw.shape == (d,) and isinstance(db, float)


def test_linreg_grad_matches_torch_autograd():
    X, y, w, b = _problem(40, 3, seed=1)
    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.mse_loss(torch.tensor(X) @ w_t + b_t, torch.tensor(y))
    loss.backward()
    dw, db = linreg_mse_grad(X, y, w, b)
    np.testing.assert_allclose(dw, w_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, b_t.grad.item(), rtol=1e-12, atol=1e-12)
    assert np.isclose(linreg_mse(X, y, w, b), loss.item(), rtol=1e-12)


def test_linreg_grad_is_zero_at_the_least_squares_solution():
    X, y, _, _ = _problem(25, 2, seed=2)
    w, b = _lstsq(X, y)
    dw, db = linreg_mse_grad(X, y, w, b)
    assert np.allclose(dw, 0, atol=1e-10) and abs(db) < 1e-10


def test_linreg_grad_matches_the_one_feature_formula():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=9), rng.normal(size=9)
    m, b = 0.4, -1.2
    dm = (2 / 9) * np.sum(-x * (y - (m * x + b)))
    db = (2 / 9) * np.sum(-(y - (m * x + b)))
    got_dm, got_db = linreg_mse_grad(x[:, None], y, [m], b)
    assert np.isclose(got_dm[0], dm) and np.isclose(got_db, db)


# --------------------------------------------------------------------------------------------- training


def test_batch_gd_recovers_lstsq():
    X, y, _, _ = _problem(100, 3, seed=4)
    fit = fit_linear_regression(X, y, lr=0.2, epochs=500)
    w, b = _lstsq(X, y)
    assert not fit.diverged
    np.testing.assert_allclose(fit.w, w, atol=1e-8)
    assert abs(fit.b - b) < 1e-8
    assert len(fit.epoch_loss) == 501 and fit.iterations == 500 and fit.path.shape == (501, 4)
    assert all(a >= c - 1e-12 for a, c in zip(fit.epoch_loss, fit.epoch_loss[1:]))  # small lr: never goes up


def test_employee_bonus_standardised_recovers_true_weights():
    table = employee_bonus()
    mu, sd = table.X.mean(0), table.X.std(0)
    fit = fit_linear_regression((table.X - mu) / sd, table.y, lr=0.1, epochs=300)
    w = fit.w / sd
    b = fit.b - np.sum(fit.w * mu / sd)
    w_ls, b_ls = _lstsq(table.X, table.y)
    np.testing.assert_allclose(w, w_ls, atol=1e-8)
    assert abs(b - b_ls) < 1e-8
    assert np.abs(w - table.true_params["weights"]).max() < 0.05
    assert abs(b - table.true_params["bias"]) < 0.15


def test_minibatch_and_sgd_get_close_and_count_iterations():
    X, y, _, _ = _problem(103, 2, seed=5)
    w, b = _lstsq(X, y)
    best = linreg_mse(X, y, w, b)
    for batch_size, lr in [(10, 0.05), (1, 0.01)]:
        fit = fit_linear_regression(X, y, lr=lr, epochs=30, batch_size=batch_size, rng=0)
        per_epoch = -(-103 // batch_size)
        assert fit.iterations == 30 * per_epoch and len(fit.batch_loss) == fit.iterations
        assert fit.path.shape == (fit.iterations + 1, 3)
        assert fit.epoch_loss[-1] < best * 1.1
        np.testing.assert_allclose(fit.w, w, atol=0.05)


def test_same_seed_same_run_and_starting_point():
    X, y, _, _ = _problem(40, 2, seed=6)
    a = fit_linear_regression(X, y, 0.05, 3, batch_size=8, rng=1, w0=[1.0, -1.0], b0=2.0)
    b = fit_linear_regression(X, y, 0.05, 3, batch_size=8, rng=np.random.default_rng(1), w0=[1.0, -1.0], b0=2.0)
    np.testing.assert_array_equal(a.path, b.path)
    np.testing.assert_array_equal(a.path[0], [1.0, -1.0, 2.0])


@pytest.mark.parametrize("batch_size", [None, 4])
def test_divergence_is_flagged_without_exception_or_warning(batch_size):
    X, y, _, _ = _problem(40, 3, seed=7)
    X = X * 10  # steep loss surface: lr = 1 is far beyond the critical learning rate
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_linear_regression(X, y, lr=1.0, epochs=1000, batch_size=batch_size, rng=0)
    assert fit.diverged
    assert np.all(np.isfinite(fit.path)) and np.all(np.isfinite(fit.epoch_loss)) and np.all(np.isfinite(fit.w))
    assert fit.iterations < 1000 * 10


def test_bad_arguments_get_clear_messages():
    X, y, _, _ = _problem(10, 2)
    with pytest.raises(ValueError, match="X has shape"):
        linreg_mse_grad(X[:, 0], y, [0.0], 0.0)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        linreg_mse_grad(X, y[:9], [0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match=r"w has shape \(3,\) but X has 2 features"):
        linreg_mse_grad(X, y, [0.0, 0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="y has shape"):
        linreg_mse_grad(X, y[:, None], [0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="lr is -0.1"):
        fit_linear_regression(X, y, lr=-0.1, epochs=3)
    with pytest.raises(ValueError, match="epochs is 0"):
        fit_linear_regression(X, y, lr=0.1, epochs=0)
    with pytest.raises(ValueError, match="batch_size is 0"):
        fit_linear_regression(X, y, lr=0.1, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="x0 has shape"):
        descend(quadratic().grad, [1.0, 2.0, 3.0], 0.1, 5)
    with pytest.raises(ValueError, match="lr is nan"):
        descend(quadratic().grad, [1.0, 2.0], float("nan"), 5)
    with pytest.raises(ValueError, match="steps is 2.5"):
        descend(quadratic().grad, [1.0, 2.0], 0.1, 2.5)
    with pytest.raises(ValueError, match="grad_fn returned shape"):
        descend(lambda p: np.zeros(3), [1.0, 2.0], 0.1, 5)
    with pytest.raises(ValueError, match="eigenvalues"):
        quadratic((1.0, -2.0))


# ---------------------------------------------------------------------------------------- 2-D surfaces


@pytest.mark.parametrize("surface", [quadratic((1.0, 10.0), angle=30, centre=(1.0, -2.0)), double_well(0.3)])
def test_surface_gradients_match_finite_differences(surface):
    rng = np.random.default_rng(8)
    for p in rng.normal(size=(5, 2)):
        numeric = numerical_grad(lambda q: surface.f(q), p.copy())
        assert compare_grads(surface.grad(p), numeric, surface.name).ok
    grid = rng.normal(size=(4, 6, 2))
    assert surface.f(grid).shape == (4, 6) and surface.grad(grid).shape == (4, 6, 2)
    assert np.allclose(surface.grad(surface.minima), 0, atol=1e-9)


def test_double_well_global_minimum_first():
    s = double_well(0.3)
    assert s.f(s.minima[0]) < s.f(s.minima[1]) and s.minima[0, 0] < 0 < s.minima[1, 0]
    assert double_well(-0.3).minima[0, 0] > 0


def test_quadratic_critical_learning_rate():
    s = quadratic((1.0, 10.0), angle=30)
    assert np.allclose(np.linalg.eigvalsh(s.hessian), [1.0, 10.0])
    critical = 2 / 10.0
    below = descend(s.grad, [3.0, 2.0], 0.95 * critical, 500)
    assert not below.diverged and np.linalg.norm(below.points[-1]) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        above = descend(s.grad, [3.0, 2.0], 1.2 * critical, 10_000, bound=100)
    assert above.diverged and above.steps < 100 and np.all(np.isfinite(above.points))
    assert np.abs(above.points).max() <= 100 and np.abs(above.points[-1]).max() == 100


def test_descend_with_an_infinite_gradient_stays_finite():
    path = descend(lambda p: np.array([np.inf, 0.0]), [0.0, 0.0], 0.1, 10)
    assert path.diverged and path.steps == 1 and np.all(np.isfinite(path.points))


def test_descend_local_minimum_depends_on_start():
    s = double_well(0.3)
    right = descend(s.grad, [1.5, 1.0], 0.05, 500)
    left = descend(s.grad, [-1.5, 1.0], 0.05, 500)
    assert np.allclose(right.points[-1], s.minima[1], atol=1e-6)  # the local minimum
    assert np.allclose(left.points[-1], s.minima[0], atol=1e-6)  # the global one
    assert descend(s.grad, [1.0, 1.0], 0.05, 0).steps == 0
