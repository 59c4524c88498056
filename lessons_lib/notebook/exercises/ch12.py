"""Checkers for the exercises of Chapter 12 (optimizers).

- :func:`check_momentum_step`: one step of SGD with momentum, in torch.optim's form;
- :func:`check_adam_step`: one step of Adam (Kingma and Ba, 2015), with bias correction and ε outside the root.

Both take NumPy arrays (any shape, element by element) and return a :class:`lessons_lib.notebook.checking.CheckResult`;
the reference solutions are the ``*_reference`` functions beside them.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import CheckResult, as_arrays, compare, compare_parts, same_values

__all__ = [
    "adam_step_reference",
    "check_adam_step",
    "check_momentum_step",
    "momentum_step_reference",
]


# --------------------------------------------------------------------------------------------- momentum


def momentum_step_reference(theta, grad, buf, lr, momentum):
    """One step of SGD with momentum as torch.optim.SGD takes it (dampening 0, no Nesterov).

    theta, grad, buf: arrays of one shape (buf: the velocity, zeros before the first step);
    returns (new_theta, new_buf) with new_buf = momentum · buf + grad and new_theta = theta − lr · new_buf.
    """
    new_buf = momentum * buf + grad
    return theta - lr * new_buf, new_buf


def _momentum_cases(seed: int = 12) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = [{"theta": np.array([1.0, -2.0]), "grad": np.array([0.5, 1.0]), "buf": np.zeros(2), "lr": 0.1,
              "momentum": 0.9}]  # the first step: the buffer is still zero
    for shape, lr, mu in [((3,), 0.05, 0.9), ((2, 3), 0.01, 0.5), ((4,), 0.2, 0.99), ((5,), 0.1, 0.0)]:
        cases.append({"theta": rng.normal(size=shape), "grad": rng.normal(size=shape),
                      "buf": rng.normal(size=shape), "lr": lr, "momentum": mu})
    return cases


def _momentum_hint(case, got, expected):
    parts = as_arrays(got, 2)
    if parts is None:
        return "return two arrays: `return new_theta, new_buf`"
    theta_got, buf_got = parts
    theta, g, b, lr, mu = case["theta"], case["grad"], case["buf"], case["lr"], case["momentum"]
    new_b = mu * b + g
    if same_values(buf_got, mu * b + (1 - mu) * g, atol=1e-12):
        return ("that is the EWMA form v = μv + (1 − μ)g; torch.optim.SGD keeps b = μb + g (no 1 − μ factor), "
                "which only rescales the learning rate by 1/(1 − μ)")
    if same_values(theta_got, theta - lr * (g + new_b), atol=1e-12) or same_values(theta_got, theta - lr * (g + b), atol=1e-12):
        return "the velocity replaces the gradient in the update, it is not added to it: θ − lr · b"
    if same_values(theta_got, theta - lr * b, atol=1e-12) and same_values(buf_got, new_b, atol=1e-12):
        return "update the buffer first, then step with the NEW buffer"
    if same_values(theta_got, theta + lr * new_b, atol=1e-12):
        return "you stepped uphill: subtract lr times the velocity"
    if same_values(theta_got, theta - lr * g, atol=1e-12):
        return "this is plain SGD: the step should use the velocity buffer, not the raw gradient"
    if same_values(theta_got, theta - lr * new_b, atol=1e-12) and not same_values(buf_got, new_b, atol=1e-12):
        return "θ is right but return the updated buffer (momentum · buf + grad) as the second value"
    return None


def check_momentum_step(fn) -> CheckResult:
    """Check ``fn(theta, grad, buf, lr, momentum)`` -> (new_theta, new_buf), torch.optim.SGD's momentum step."""
    return compare(fn, momentum_step_reference, _momentum_cases(), name="momentum step", hints=[_momentum_hint],
                   compare_fn=compare_parts(("new_theta", "new_buf"), atol=1e-12))


# ------------------------------------------------------------------------------------------------- adam


def adam_step_reference(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (no weight decay). theta, grad, m, v: arrays of one shape; t: this step's number, from 1.

    Returns (new_theta, new_m, new_v): m and v are the running first and second moments (zeros before the
    first step), corrected by 1 − βᵗ before use, and ε is added to the square root, not inside it.
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_cases(seed: int = 12) -> list[dict]:
    rng = np.random.default_rng(seed)
    z = np.zeros(3)
    cases = [{"theta": np.array([0.5, -1.0, 2.0]), "grad": np.array([0.2, -3.0, 1.0]), "m": z, "v": z, "t": 1,
              "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}]  # step 1: bias correction matters most
    for shape, t, lr in [((4,), 3, 1e-3), ((2, 2), 50, 0.1), ((3,), 2000, 0.01)]:
        cases.append({"theta": rng.normal(size=shape), "grad": rng.normal(size=shape),
                      "m": 0.1 * rng.normal(size=shape), "v": 0.1 * rng.random(size=shape), "t": t, "lr": lr,
                      "beta1": 0.9, "beta2": 0.999, "eps": 1e-8})
    # tiny gradients: here it shows where ε sits
    cases.append({"theta": np.ones(2), "grad": np.array([3e-6, -1e-6]), "m": np.array([1e-6, 0.0]),
                  "v": np.array([4e-12, 1e-12]), "t": 10, "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8})
    return cases


def _adam_hint(case, got, expected):
    parts = as_arrays(got, 3)
    if parts is None:
        return "return three arrays: `return new_theta, new_m, new_v`"
    theta_got, m_got, v_got = parts
    theta, g, t, lr, b1, b2, eps = (case[k] for k in ("theta", "grad", "t", "lr", "beta1", "beta2", "eps"))
    m = b1 * case["m"] + (1 - b1) * g
    v = b2 * case["v"] + (1 - b2) * g**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    if not same_values(m_got, m, atol=1e-12):
        return "the first moment is m = β1·m + (1 − β1)·g, from the OLD m"
    if not same_values(v_got, v, atol=1e-12):
        return "the second moment is v = β2·v + (1 − β2)·g², with the gradient squared element by element"
    if same_values(theta_got, theta - lr * m / (np.sqrt(v) + eps), atol=1e-12):
        return "bias correction is missing: divide m by 1 − β1ᵗ and v by 1 − β2ᵗ before the step"
    if same_values(theta_got, theta - lr * m_hat / np.sqrt(v_hat + eps), atol=1e-12):
        return "ε goes outside the square root: √v̂ + ε, not √(v̂ + ε)"
    if same_values(theta_got, theta - lr * g / (np.sqrt(v_hat) + eps), atol=1e-12):
        return "the step uses the averaged gradient m̂, not the raw gradient g"
    stale = theta - lr * (m / (1 - b1 ** (t - 1))) / (np.sqrt(v / (1 - b2 ** (t - 1))) + eps)  # step t-1's correction
    if t > 1 and same_values(theta_got, stale, atol=1e-12):
        return "t counts steps from 1, and this is step t: use βᵗ, not βᵗ⁻¹"
    if same_values(theta_got, theta + lr * m_hat / (np.sqrt(v_hat) + eps), atol=1e-12):
        return "you stepped uphill: subtract the update"
    return None


def check_adam_step(fn) -> CheckResult:
    """Check ``fn(theta, grad, m, v, t, lr, beta1, beta2, eps)`` -> (new_theta, new_m, new_v), one Adam step."""
    return compare(fn, adam_step_reference, _adam_cases(), name="Adam step", hints=[_adam_hint],
                   compare_fn=compare_parts(("new_theta", "new_m", "new_v"), atol=1e-12))
