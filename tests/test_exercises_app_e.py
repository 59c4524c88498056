"""The Appendix E checker: correct ELM fits pass in every form, realistic wrong answers get the right diagnosis."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_e import check_elm_fit, elm_fit_reference


def elm_numpy(X, Y, W, b, lam, *, act=np.tanh, bias=True, ridge="diag", on_raw=False, transpose=False, scale=1.0):
    """A reader's ELM fit; the keyword arguments reproduce the usual slips."""
    H = X if on_raw else act(X @ W + (b if bias else 0))
    lam = lam * scale
    if ridge == "diag":
        beta = np.linalg.solve(H.T @ H + lam * np.eye(H.shape[1]), H.T @ Y)
    elif ridge == "scalar":
        beta = np.linalg.solve(H.T @ H + lam, H.T @ Y)
    else:  # plain least squares
        beta = np.linalg.pinv(H) @ Y
    return beta.T if transpose else beta


def test_reference_is_the_ridge_minimiser():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(30, 4)), rng.normal(size=(4, 9)), rng.normal(size=9)
    Y = np.eye(3)[rng.integers(0, 3, 30)]
    lam = 0.7
    beta = elm_fit_reference(X, Y, W, b, lam)
    H = np.tanh(X @ W + b)
    gradient = 2 * H.T @ (H @ beta - Y) + 2 * lam * beta          # d/dbeta of ||H beta - Y||^2 + lam ||beta||^2
    assert beta.shape == (9, 3) and np.abs(gradient).max() < 1e-10
    # and it agrees with scikit-learn's Ridge without an intercept
    from sklearn.linear_model import Ridge
    sk = Ridge(alpha=lam, fit_intercept=False).fit(H, Y).coef_.T
    assert np.allclose(beta, sk, atol=1e-10)


def test_correct_answers_pass():
    assert check_elm_fit(elm_fit_reference).status == PASSED
    assert check_elm_fit(elm_numpy).passed

    def dual(X, Y, W, b, lam):                                      # H^T (H H^T + lam I_N)^{-1} Y
        H = np.tanh(X @ W + b)
        return H.T @ np.linalg.solve(H @ H.T + lam * np.eye(len(H)), Y)

    def via_torch(X, Y, W, b, lam):
        H = torch.tanh(torch.from_numpy(X) @ torch.from_numpy(W) + torch.from_numpy(b))
        A = H.T @ H + lam * torch.eye(H.shape[1], dtype=H.dtype)
        return torch.linalg.solve(A, H.T @ torch.from_numpy(Y))

    def via_lstsq(X, Y, W, b, lam):                                  # ridge as least squares on an augmented system
        H = np.tanh(X @ W + b)
        m = H.shape[1]
        A = np.vstack([H, np.sqrt(lam) * np.eye(m)])
        T = np.vstack([Y, np.zeros((m, Y.shape[1]))])
        return np.linalg.lstsq(A, T, rcond=None)[0]

    for fn in (dual, via_torch, via_lstsq):
        assert check_elm_fit(fn).passed, fn.__name__


@pytest.mark.parametrize("slip, expected_words", [
    (dict(ridge="lstsq"), "plain least squares"),
    (dict(ridge="scalar"), "diagonal only"),
    (dict(bias=False), "has a bias"),
    (dict(act=lambda a: 1 / (1 + np.exp(-a))), "not sigmoid"),
    (dict(scale=None), "number of examples"),
    (dict(transpose=True), "(M, C)"),
    (dict(on_raw=True), "fitted on X itself"),
])
def test_slips_are_diagnosed(slip, expected_words):
    if slip.get("scale", 1.0) is None:
        fn = lambda X, Y, W, b, lam: elm_numpy(X, Y, W, b, lam, scale=len(X))  # noqa: E731
    else:
        fn = lambda X, Y, W, b, lam: elm_numpy(X, Y, W, b, lam, **slip)  # noqa: E731
    result = check_elm_fit(fn)
    assert result.status == FAILED, result
    assert expected_words in result.message, result.message
    assert "N = 40 examples" in result.message and len(result.message) < 600


def test_stub_crash_and_wrong_type():
    def stub(X, Y, W, b, lam):
        raise NotImplementedError

    assert check_elm_fit(stub).status == NOT_ATTEMPTED
    result = check_elm_fit(lambda X, Y, W, b, lam: X @ W.T)
    assert result.status == ERROR and "ValueError" in result.message and "hidden units" in result.message
    result = check_elm_fit(lambda X, Y, W, b, lam: "beta")
    assert result.status == FAILED and "expected an array" in result.message
    result = check_elm_fit(lambda X, Y, W, b, lam: np.zeros((W.shape[1], Y.shape[1])))
    assert result.status == FAILED and "worst entry" in result.message and "Hint" not in result.message
