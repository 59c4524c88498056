"""Checkers for the exercises of Chapter 24 (backpropagation through time and vanishing gradients).

- :func:`check_bptt_grad_w_hh`: the gradient of L = ½‖h_T − y‖² with respect to the recurrent matrix W_hh of a
  tanh RNN, written by hand, compared with torch autograd (float64);
- :func:`check_jacobian_norm`: ‖∂h_n/∂h_0‖₂ = ‖W^n‖₂ for a linear RNN h_t = W h_{t-1} + U x_t, compared with the
  spectral norm of the matrix power.

Both recognise the usual slips. For BPTT: only the last step's term (no sum over steps), the tanh' factor left
out (everywhere, or on the carried path only), tanh' taken at h_{t-1} instead of h_t, W_hh instead of its
transpose on the way back, the outer product the wrong way round or with h_t instead of h_{t-1}, a factor 2 in
the loss. For the norm: the spectral radius to the n (the long-run rate, not the norm at a finite lag), the norm
to the n (an upper bound), the Frobenius norm, the element-wise power ``W ** n``, an off-by-one power, a matrix
returned instead of a number.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare, same_values

__all__ = ["bptt_grad_w_hh_reference", "check_bptt_grad_w_hh", "check_jacobian_norm", "jacobian_norm_reference"]


def _torch():
    import torch  # lazily: importing the checkers should not cost torch's import

    return torch


# ---------------------------------------------------------------------------------------- BPTT by hand


def bptt_grad_w_hh_reference(xs, W_ih, W_hh, b, y):
    """dL/dW_hh by torch autograd (float64, CPU) for h_0 = 0, h_t = tanh(W_ih x_t + W_hh h_{t-1} + b),
    L = ½‖h_T − y‖²; xs is (T, F), one sequence."""
    torch = _torch()
    xs, W_ih, b, y = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (xs, W_ih, b, y))
    W = torch.tensor(np.asarray(W_hh, dtype=np.float64), requires_grad=True)
    h = torch.zeros(W.shape[0], dtype=torch.float64)
    for x in xs:
        h = torch.tanh(W_ih @ x + W @ h + b)
    (0.5 * ((h - y) ** 2).sum()).backward()
    return W.grad.numpy()


def _bptt_variant(xs, W_ih, W_hh, b, y, *, last_only=False, no_prime=False, prime_only_at_T=False,
                  prime_at_previous=False, carry_with_W=False, outer_with_h_t=False,
                  factor=1.0):
    """A hand-written BPTT with one slip switched on (the hints compare the reader's answer with these)."""
    xs, W_ih, W_hh, b, y = (np.asarray(a, dtype=np.float64) for a in (xs, W_ih, W_hh, b, y))
    H = W_hh.shape[0]
    hs = [np.zeros(H)]
    for x in xs:
        hs.append(np.tanh(W_ih @ x + W_hh @ hs[-1] + b))
    T = len(xs)
    grad = np.zeros((H, H))
    dh = factor * (hs[T] - y)  # dL/dh_T
    for t in range(T, 0, -1):
        at_T = t == T
        prime = 1 - (hs[t - 1] if prime_at_previous else hs[t]) ** 2
        if no_prime or (prime_only_at_T and not at_T):
            prime = np.ones(H)
        delta = dh * prime  # dL/da_t
        other = hs[t] if outer_with_h_t else hs[t - 1]
        grad += np.outer(delta, other)
        if last_only:
            break
        dh = (W_hh if carry_with_W else W_hh.T) @ delta
    return grad


def _bptt_cases():
    rng = np.random.default_rng(24)
    cases = []
    # (T, F, H, weight scale): the three-step scalar RNN first, then vectors; T = 1 has a zero gradient (h_0 = 0)
    for T, F_, H, scale in [(3, 1, 1, 0.8), (3, 2, 3, 0.6), (5, 3, 4, 0.5), (2, 2, 2, 1.0), (1, 2, 3, 0.7),
                            (8, 2, 3, 0.9), (4, 1, 2, 1.5)]:
        cases.append({
            "xs": rng.normal(size=(T, F_)).round(3),
            "W_ih": (scale * rng.normal(size=(H, F_))).round(3),
            "W_hh": (scale * rng.normal(size=(H, H))).round(3),
            "b": (0.3 * rng.normal(size=H)).round(3),
            "y": rng.uniform(-0.9, 0.9, size=H).round(3),
        })
    return cases


def _bptt_hints():
    def slip(text, **which):
        def hint(case, got, expected):
            if same_values(got, expected):
                return None
            if same_values(got, _bptt_variant(**case, **which)):
                return text

        return hint

    def transposed(case, got, expected):
        if not same_values(got, expected) and same_values(got, np.asarray(expected).T):
            return ("your answer is the transpose of the gradient: the term of step t is the outer product "
                    "δ_t h_{t-1}^T (rows: the unit that receives, like the rows of W_hh), np.outer(delta, h_prev)")

    return [
        slip("you kept only the last step's term δ_T h_{T-1}^T. W_hh is used at every step, so its gradient is the "
             "SUM of one term per step: carry dL/dh_{t-1} = W_hh^T δ_t back and add δ_t h_{t-1}^T for every t",
             last_only=True),
        slip("the tanh' factor is missing: h_t = tanh(a_t), so δ_t = dL/da_t = dL/dh_t ⊙ (1 − h_t²) at every step",
             no_prime=True),
        slip("the tanh' factor is applied at the last step only: on the way back, dL/dh_{t-1} = W_hh^T δ_t must go "
             "through tanh' of step t-1 too, δ_{t-1} = dL/dh_{t-1} ⊙ (1 − h_{t-1}²)", prime_only_at_T=True),
        slip("tanh' is taken at the wrong state: step t computes h_t = tanh(a_t), so its derivative is "
             "1 − h_t² (the state step t produced), not 1 − h_{t-1}²", prime_at_previous=True),
        slip("on the way back you multiplied by W_hh; the chain rule for a_t = W_hh h_{t-1} + ... gives "
             "dL/dh_{t-1} = W_hh^T δ_t (the transpose)", carry_with_W=True),
        slip("the outer product uses h_t; the weight W_hh multiplies the state that came IN to step t, so the term "
             "is δ_t h_{t-1}^T (with h_0 = 0 the first step adds nothing)", outer_with_h_t=True),
        slip("your answer is twice the gradient: L = ½‖h_T − y‖², so dL/dh_T = h_T − y (the ½ cancels the 2)",
             factor=2.0),
        transposed,
    ]


def check_bptt_grad_w_hh(fn) -> CheckResult:
    """Check ``fn(xs, W_ih, W_hh, b, y) -> dL/dW_hh`` (H, H) against torch autograd.

    The RNN: h_0 = 0, h_t = tanh(W_ih x_t + W_hh h_{t-1} + b) for t = 1..T (xs is (T, F)), L = ½‖h_T − y‖².
    """
    result = compare(fn, bptt_grad_w_hh_reference, _bptt_cases(), name="check_bptt_grad_w_hh", rtol=1e-7,
                     atol=1e-10, hints=_bptt_hints())
    if result.passed:
        result.message += ": your backpropagation through time equals torch autograd (scalar and vector RNNs, 1 to 8 steps)"
    return result


# ------------------------------------------------------------------------------------ Jacobian norm


def jacobian_norm_reference(W, n):
    """‖W^n‖₂, the largest singular value of the matrix power: ‖∂h_n/∂h_0‖₂ for h_t = W h_{t-1} + U x_t."""
    W = np.asarray(W, dtype=np.float64)
    return float(np.linalg.norm(np.linalg.matrix_power(W, int(n)), 2))


def _rotation(angle, scale):
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def _norm_cases():
    rng = np.random.default_rng(240)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    g = rng.normal(size=(4, 4))
    g6 = rng.normal(size=(6, 6))
    g6 = 0.9 * g6 / np.max(np.abs(np.linalg.eigvals(g6)))
    return [
        {"W": np.diag([0.5, 0.9]), "n": 3},                    # diagonal: the norm is the spectral radius to the n
        {"W": np.array([[0.9, 2.0], [0.0, 0.9]]), "n": 5},     # non-normal: transient growth although rho < 1
        {"W": g / 2, "n": 10},
        {"W": np.array([[0.9, 2.0], [0.0, 0.9]]), "n": 0},     # n = 0: the identity
        {"W": g / 2, "n": 1},
        {"W": 1.1 * q, "n": 20},                               # orthogonal times 1.1: every singular value 1.1
        {"W": _rotation(0.7, 0.95), "n": 7},                   # complex eigenvalues
        {"W": g6, "n": 60},
    ]


def _norm_hints():
    def matches(case, got, value):
        return same_values(got, value, rtol=1e-6, atol=1e-12)

    def radius_power(case, got, expected):
        rho = np.max(np.abs(np.linalg.eigvals(case["W"])))
        if matches(case, got, rho ** case["n"]):
            return ("that is ρ(W)^n, the spectral radius to the n: it is the long-run RATE (‖W^n‖^(1/n) → ρ), but at a "
                    "finite lag a non-normal matrix can be much larger; compute the norm of W^n itself")

    def norm_power(case, got, expected):
        if matches(case, got, np.linalg.norm(case["W"], 2) ** case["n"]):
            return ("that is ‖W‖^n, an upper bound (‖AB‖ ≤ ‖A‖‖B‖), reached only for special matrices; compute the "
                    "norm of the matrix power np.linalg.matrix_power(W, n)")

    def frobenius(case, got, expected):
        if matches(case, got, np.linalg.norm(np.linalg.matrix_power(case["W"], case["n"]))):
            return ("that is the Frobenius norm (np.linalg.norm's default for a matrix); the gradient's worst-case "
                    "amplification is the spectral norm, the largest singular value: np.linalg.norm(M, 2)")

    def elementwise(case, got, expected):
        with np.errstate(all="ignore"):
            powered = np.asarray(case["W"], dtype=float) ** case["n"]
        if same_values(powered, np.linalg.matrix_power(case["W"], case["n"])):
            return None  # a diagonal matrix: the element-wise power is the matrix power
        if matches(case, got, np.linalg.norm(powered, 2)) or matches(case, got, np.linalg.norm(powered)):
            return ("W ** n raises every ENTRY to the power n; the Jacobian of n steps is the matrix product "
                    "W @ W @ ... @ W: np.linalg.matrix_power(W, n)")

    def off_by_one(case, got, expected):
        for m in (case["n"] - 1, case["n"] + 1):
            if m >= 0 and matches(case, got, jacobian_norm_reference(case["W"], m)):
                return (f"you computed the norm of W^{m}; from h_0 to h_n there are n steps, each contributing one "
                        "factor ∂h_t/∂h_{t-1} = W, so the Jacobian is W^n (W^0 = I, norm 1)")

    def not_a_number(case, got, expected):
        shape = np.shape(got.detach().cpu().numpy() if hasattr(got, "detach") else got)
        if shape not in ((), (1,)):
            return "return one number, the norm ‖W^n‖₂ (np.linalg.norm(M, 2)), not the matrix"

    return [not_a_number, radius_power, norm_power, elementwise, frobenius, off_by_one]


def check_jacobian_norm(fn) -> CheckResult:
    """Check ``fn(W, n) -> ‖∂h_n/∂h_0‖₂`` for the linear RNN h_t = W h_{t-1} + U x_t (that is ‖W^n‖₂)."""
    result = compare(fn, jacobian_norm_reference, _norm_cases(), name="check_jacobian_norm", rtol=1e-7, atol=1e-12,
                     hints=_norm_hints())
    if result.passed:
        result.message += ": diagonal, non-normal, orthogonal and rotation matrices, lags 0 to 60"
    return result
