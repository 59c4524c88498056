"""Checkers for the exercises of Chapter 10 (autograd).

- :func:`check_manual_sgd_step`: one hand-written gradient-descent step on leaf tensors, with the update
  done outside the graph and no leftover gradient leaking into it;
- :func:`check_grad_of`: the gradient of a scalar function at a point, without touching the point's ``.grad``.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solutions are the
``*_reference`` functions beside them.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, CheckResult, compare, same_values

__all__ = ["check_grad_of", "check_manual_sgd_step", "grad_of_reference", "manual_sgd_step_reference"]


def _torch():
    import torch  # lazily, like lessons_lib.device

    return torch


# ------------------------------------------------------------------------------------ manual SGD step


def _mse_grads(w, b, x, y):
    """Fresh gradients of mean((x w + b - y)²) at (w, b), computed without touching w.grad or b.grad."""
    torch = _torch()
    w0, b0 = w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    loss = ((x @ w0 + b0 - y) ** 2).mean()
    return torch.autograd.grad(loss, (w0, b0))


def manual_sgd_step_reference(w, b, x, y, lr):
    """One gradient-descent step on the MSE of ŷ = x w + b, done by hand with autograd.

    w (d,) and b (a 0-d tensor) are leaf tensors with ``requires_grad=True`` that may still hold a
    ``.grad`` from an earlier step; x (n, d), y (n,); lr a number. Updates w and b in place and returns them.
    """
    torch = _torch()
    w.grad, b.grad = None, None  # forget any leftover gradient before the new backward pass
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():  # the update itself must not become part of the graph
        w -= lr * w.grad
        b -= lr * b.grad
    return w, b


def _sgd_cases(seed: int = 10) -> list[dict]:
    torch = _torch()
    rng = np.random.default_rng(seed)
    cases = []
    for n, d, lr, stale in [(8, 1, 0.1, True), (20, 3, 0.05, True), (5, 2, 0.5, False), (30, 4, 0.01, True)]:
        x = rng.normal(size=(n, d))
        y = x @ rng.normal(size=d) + 1.0 + 0.1 * rng.normal(size=n)
        w = torch.tensor(rng.normal(size=d), dtype=torch.float64, requires_grad=True)
        b = torch.tensor(float(rng.normal()), dtype=torch.float64, requires_grad=True)
        if stale:  # a gradient left over from an earlier step, as in a training loop
            w.grad = torch.tensor(rng.normal(size=d) * 3, dtype=torch.float64)
            b.grad = torch.tensor(float(rng.normal() * 3), dtype=torch.float64)
        cases.append({"w": w, "b": b, "x": torch.tensor(x), "y": torch.tensor(y), "lr": lr})
    return cases


def _sgd_compare(got, expected) -> str | None:
    torch = _torch()
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"got {type(got).__name__}, expected a pair (w, b) of tensors"
    for name, g, e in zip(("w", "b"), got, expected):
        if not isinstance(g, torch.Tensor):
            return f"the returned {name} is a {type(g).__name__}, expected a torch tensor"
        if g.grad_fn is not None:
            return (f"the returned {name} carries a graph (grad_fn={type(g.grad_fn).__name__}): "
                    f"the update was recorded by autograd")
        if not g.requires_grad:
            return f"the returned {name} no longer requires grad, so the next step could not train it"
        if tuple(g.shape) != tuple(e.shape):
            return f"the returned {name} has shape {tuple(g.shape)}, expected {tuple(e.shape)}"
    problems = [f"new {name} = {np.round(g.detach().cpu().numpy(), 5).tolist()}, "
                f"expected {np.round(e.detach().cpu().numpy(), 5).tolist()}"
                for name, g, e in zip(("w", "b"), got, expected) if not same_values(g, e, atol=1e-9)]
    return "; ".join(problems) or None


def _sgd_hint(case, got, expected):
    torch = _torch()
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "return the two updated tensors: `return w, b`"
    w_got, b_got = got
    if not (isinstance(w_got, torch.Tensor) and isinstance(b_got, torch.Tensor)):
        return "keep w and b as tensors and update them in place"
    if w_got.grad_fn is not None or b_got.grad_fn is not None:
        return "write the update inside `with torch.no_grad():` so it is not recorded, e.g. `w -= lr * w.grad`"
    if not (w_got.requires_grad and b_got.requires_grad):
        return ("`w = w - lr * w.grad` under no_grad makes a NEW tensor that does not require grad; "
                "update in place instead: `w -= lr * w.grad`")
    w, b, x, y, lr = case["w"], case["b"], case["x"], case["y"], case["lr"]
    gw, gb = _mse_grads(w, b, x, y)
    if w.grad is not None and same_values(w_got, w.detach() - lr * (gw + w.grad), atol=1e-9):
        return ("the gradient left over from the previous step was added to the new one (backward accumulates): "
                "set w.grad = None and b.grad = None (or zero them) BEFORE loss.backward()")
    if same_values(w_got, w.detach() + lr * gw, atol=1e-9):
        return "you stepped uphill: subtract lr times the gradient"
    if same_values(w_got, w.detach() - lr * gw * len(y), atol=1e-9):
        return "the loss is the MEAN of the squared errors, not their sum"
    if same_values(w_got, w.detach() - lr * gw, atol=1e-9) and same_values(b_got, b.detach(), atol=1e-9):
        return "w is right but b did not move: update the bias too"
    return None


def check_manual_sgd_step(fn) -> CheckResult:
    """Check ``fn(w, b, x, y, lr)`` -> (w, b): one hand-written gradient-descent step on the MSE with autograd."""
    return compare(fn, manual_sgd_step_reference, _sgd_cases(), name="manual SGD step",
                   hints=[_sgd_hint], compare_fn=_sgd_compare)


# ------------------------------------------------------------------------------------------- grad of


def grad_of_reference(f, x):
    """df/dx at x for a function f from a tensor to a scalar tensor, as a tensor shaped like x.

    x may be a leaf that requires grad and holds a ``.grad`` already: that ``.grad`` is neither read nor changed.
    """
    torch = _torch()
    (g,) = torch.autograd.grad(f(x), x)
    return g


_FUNCTIONS = [
    ("sum of squares", lambda t: (t**2).sum()),
    ("product of sines", lambda t: t.sin().prod()),
    ("log-sum-exp", lambda t: t.logsumexp(0)),
    ("x·exp(x) summed", lambda t: (t * t.exp()).sum()),
]


def _grad_cases(seed: int = 11) -> list[dict]:
    torch = _torch()
    rng = np.random.default_rng(seed)
    cases = []
    for i, (_label, f) in enumerate(_FUNCTIONS):
        x = torch.tensor(rng.normal(size=3 + i), dtype=torch.float64, requires_grad=True)
        x.grad = torch.full_like(x.detach(), 5.0)  # a stale gradient the reader must not use or change
        cases.append({"f": f, "x": x})
    return cases


def _grad_hint(case, got, expected):
    torch = _torch()
    x = case["x"]
    if not isinstance(got, torch.Tensor):
        return "return a tensor: the first element of torch.autograd.grad(...)'s tuple"
    if got.numel() == 1 and expected.numel() > 1:
        return "you returned a single number (the value f(x)?); return the gradient, one entry per element of x"
    if got.shape == expected.shape and same_values(got, expected + x.grad, atol=1e-9):
        return ("x arrived with a leftover .grad and backward added to it; "
                "torch.autograd.grad returns the gradient without touching x.grad")
    return None


def check_grad_of(fn) -> CheckResult:
    """Check ``fn(f, x)`` -> df/dx at x, a tensor shaped like x that leaves ``x.grad`` unchanged."""
    result = compare(fn, grad_of_reference, _grad_cases(), name="gradient of f", hints=[_grad_hint])
    if not result.passed:
        return result
    torch = _torch()
    for case in _grad_cases():
        before = case["x"].grad.clone()
        got = fn(**case)
        after = case["x"].grad
        if after is None or not torch.equal(after, before):
            return CheckResult("gradient of f", FAILED,
                               "the values are right but x.grad was changed (set to None, zeroed or added to): "
                               "use torch.autograd.grad(f(x), x), which returns the gradient and leaves x.grad alone")
        if isinstance(got, torch.Tensor) and got.requires_grad:
            return CheckResult("gradient of f", FAILED,
                               "the returned gradient still carries a graph: do not pass create_graph=True here")
    return result
