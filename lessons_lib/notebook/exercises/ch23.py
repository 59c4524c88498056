"""Checkers for the exercises of Chapter 23 (recurrent neural networks).

- :func:`check_rnn_step`: one vanilla RNN step in PyTorch's layout, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh),
  against the library's ``rnn_cell``;
- :func:`check_rnn_forward`: the step unrolled over a (T, N, F) sequence from h_0 = 0, returning
  ``(outputs (T, N, H), h_last (N, H))``, against ``unroll(rnn_cell, ...)``;
- :func:`check_rnn_parameter_count`: the number of parameters of ``nn.RNN(F, H, num_layers, bidirectional)``,
  against ``recurrent_parameter_count``.

Each checker recognises the usual slips by recomputing the answer the way the slip would (no tanh, a missing
transpose, one bias only, a non-zero h_0, a state that is not carried, outputs in the wrong layout, a forgotten
direction or layer) and says which one it found.
"""

from __future__ import annotations

import copy

import numpy as np

from lessons_lib.functional.recurrent import rnn_cell, unroll
from lessons_lib.models.sequence import recurrent_parameter_count
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt

__all__ = ["check_rnn_forward", "check_rnn_parameter_count", "check_rnn_step", "rnn_forward_reference",
           "rnn_parameter_count_reference", "rnn_step_reference"]


# ------------------------------------------------------------------------------------------- helpers


def _array(x):
    """The reader's answer as a float array, or None when it is not numeric."""
    try:
        return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _close(a, b) -> bool:
    a, b = _array(a), _array(b)
    return a is not None and b is not None and a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


def _difference(got, expected, what="the result") -> str | None:
    """None when ``got`` equals ``expected``, else what differs (shape, nan, values)."""
    g, e = _array(got), _array(expected)
    if g is None:
        return f"{what} is a {type(got).__name__}; expected an array of shape {e.shape}"
    if g.shape != e.shape:
        return f"{what} has shape {g.shape}, expected {e.shape}"
    if np.isnan(g).any():
        return f"{what} contains nan"
    if np.allclose(g, e, rtol=1e-6, atol=1e-9):
        return None
    return f"{what} is wrong: worst entry off by {np.max(np.abs(g - e)):.3g}"


def _shape_hint(result: CheckResult) -> CheckResult:
    """Add a hint to a crash that looks like a matrix product of the wrong shapes."""
    words = ("matmul", "shapes", "aligned", "dimension", "broadcast", "size")
    if result.status == ERROR and any(w in result.message for w in words):
        result.message += (". Hint: in PyTorch's layout the examples are rows, x is (N, F) and W_ih is (H, F), so "
                           "the product is x @ W_ih.T (and h @ W_hh.T), not W_ih @ x")
    return result


def _run(name, fn, reference, cases, describe, difference, hints) -> CheckResult:
    """Call ``fn`` on every case (its values in order, positionally, so the reader may name the parameters
    freely); stop at the first crash or wrong answer with a diagnosis and the first hint that applies."""
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    for case in cases:
        expected = reference(**copy.deepcopy(case))
        got, error = attempt(name, fn, *copy.deepcopy(case).values(), where=describe(case))  # positional: any names
        if error:
            return _shape_hint(error)
        problem = difference(got, expected)
        if problem:
            message = f"fails for {describe(case)}: {problem}"
            for hint in hints:
                text = hint(case, got, expected)
                if text:
                    message += f". Hint: {text}"
                    break
            return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


def _weights(rng, f, h, scale=1.0):
    return {"W_ih": rng.normal(size=(h, f)) * scale, "W_hh": rng.normal(size=(h, h)) * scale / np.sqrt(h),
            "b_ih": rng.normal(size=h), "b_hh": rng.normal(size=h)}


def _step(x, h, W_ih, W_hh, b_ih, b_hh, *, act=np.tanh, t_ih=True, t_hh=True, use_ih=True, use_hh=True, use_h=True):
    """One step, or one of its usual slips: another activation, a missing transpose, a missing bias or state."""
    a = x @ (W_ih.T if t_ih else W_ih)
    if use_h:
        a = a + h @ (W_hh.T if t_hh else W_hh)
    if use_ih:
        a = a + b_ih
    if use_hh:
        a = a + b_hh
    return act(a)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _step_slips(square: bool):
    """(description, keyword arguments of _step) for every slip the checkers recognise."""
    slips = [
        ("no tanh: the new state is the raw sum. Apply np.tanh to x W_ih^T + b_ih + h W_hh^T + b_hh", {"act": lambda a: a}),
        ("you used a sigmoid; the vanilla RNN (and nn.RNN's default) squashes with tanh, into (-1, 1)",
         {"act": _sigmoid}),
        ("you used ReLU; nn.RNN's default nonlinearity is tanh", {"act": lambda a: np.maximum(a, 0)}),
        ("only b_ih was added: PyTorch adds both biases, b_ih and b_hh", {"use_hh": False}),
        ("only b_hh was added: PyTorch adds both biases, b_ih and b_hh", {"use_ih": False}),
        ("no bias was added: add b_ih and b_hh", {"use_ih": False, "use_hh": False}),
        ("the previous state h is missing: the new state is tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)",
         {"use_h": False}),
    ]
    if square:
        slips += [
            ("x @ W_ih without the transpose: W_ih is stored (H, F), so the product is x @ W_ih.T", {"t_ih": False}),
            ("h @ W_hh without the transpose: the product is h @ W_hh.T (W_hh[i, j] links unit j to unit i)",
             {"t_hh": False}),
            ("both products are missing their transpose: use x @ W_ih.T and h @ W_hh.T", {"t_ih": False, "t_hh": False}),
        ]
    return slips


# ------------------------------------------------------------------------------------------ one step


def rnn_step_reference(x, h, W_ih, W_hh, b_ih, b_hh):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): the library's rnn_cell."""
    return rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh)


def _step_cases():
    rng = np.random.default_rng(23)
    cases = []
    for n, f, h, scale in [(3, 4, 4, 1.0), (2, 3, 5, 1.0), (1, 6, 2, 0.7), (4, 5, 5, 500.0), (2, 4, 3, 1.0)]:
        cases.append({"x": rng.normal(size=(n, f)), "h": np.tanh(rng.normal(size=(n, h))), **_weights(rng, f, h, scale)})
    cases[-1]["h"] = np.zeros_like(cases[-1]["h"])          # the first step, from h_0 = 0
    return cases


def _describe_step(case):
    n, f = case["x"].shape
    big = " (large weights: tanh saturates)" if np.abs(case["W_ih"]).max() > 20 else ""
    return f"N = {n}, F = {f}, H = {case['h'].shape[1]}{big}"


def _step_hints():
    def slip(case, got, expected):
        square = case["x"].shape[1] == case["h"].shape[1]
        for text, options in _step_slips(square):
            with np.errstate(all="ignore"):
                if _close(got, _step(**case, **options)):
                    return text

    def unstable(case, got, expected):
        g = _array(got)
        if g is not None and np.isnan(g).any():
            return "a hand-written tanh overflowed for large inputs: use np.tanh, which is stable"

    return [slip, unstable]


def check_rnn_step(fn) -> CheckResult:
    """Check ``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_new`` (NumPy, PyTorch's layout) against ``rnn_cell``."""
    return _run("check_rnn_step", fn, rnn_step_reference, _step_cases(), _describe_step,
                lambda got, expected: _difference(got, expected, "the new state"), _step_hints())


# ------------------------------------------------------------------------------------ unrolled forward


def rnn_forward_reference(xs, W_ih, W_hh, b_ih, b_hh):
    """(outputs (T, N, H), h_last (N, H)) of the RNN over xs (T, N, F) from h_0 = 0: ``unroll(rnn_cell, ...)``."""
    h0 = np.zeros((xs.shape[1], W_hh.shape[0]))
    return unroll(rnn_cell, xs, h0, W_ih, W_hh, b_ih, b_hh)


def _forward_variant(xs, W_ih, W_hh, b_ih, b_hh, *, h0=None, carry=True, **slip):
    h = np.zeros((xs.shape[1], W_hh.shape[0])) if h0 is None else h0
    outputs = []
    for x in xs:
        new = _step(x, h, W_ih, W_hh, b_ih, b_hh, **slip)
        outputs.append(new)
        if carry:
            h = new
    return np.stack(outputs), outputs[-1]


def _forward_cases():
    rng = np.random.default_rng(230)
    cases = []
    for t, n, f, h, scale in [(5, 3, 4, 4, 1.0), (7, 2, 3, 5, 1.0), (1, 4, 2, 3, 1.0), (12, 3, 6, 8, 2.0)]:
        cases.append({"xs": rng.normal(size=(t, n, f)), **_weights(rng, f, h, scale)})
    return cases


def _describe_forward(case):
    t, n, f = case["xs"].shape
    return f"T = {t}, N = {n}, F = {f}, H = {case['W_hh'].shape[0]}"


def _forward_difference(got, expected) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        return f"got {kind}, expected a pair (outputs, h_last)"
    return _difference(got[0], expected[0], "outputs") or _difference(got[1], expected[1], "h_last")


def _forward_hints():
    def not_a_pair(case, got, expected):
        if not isinstance(got, (tuple, list)):
            g = _array(got)
            if g is not None and g.shape == np.shape(expected[0]):
                return "return both the outputs and the final state: `return outputs, h`"
            if g is not None and g.shape == np.shape(expected[1]):
                return "that is only the final state; return the pair (outputs of every step, final state)"

    def layout(case, got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return None
        out = _array(got[0])
        e = np.asarray(expected[0])
        if out is None:
            return None
        t, n, h = e.shape
        if out.shape == (t + 1, n, h):
            return "outputs should hold h_1 ... h_T, one per input step; leave h_0 out"
        if out.shape == (n, t, h) and t != n:
            return ("outputs are batch-first (N, T, H); nn.RNN's default layout, like xs, is time first: stack "
                    "along axis 0")
        if out.shape == e.shape and _close(out, e) and _close(got[1], e[0]):
            return "h_last is the state after the LAST step, outputs[-1], not the first"

    def first_state(case, got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return None
        out = _array(got[0])
        if out is None or out.shape != np.shape(expected[0]) or _close(out[0], expected[0][0]):
            return None
        weights = {k: case[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
        follows = all(_close(out[t], _step(case["xs"][t], out[t - 1], **weights)) for t in range(1, len(out)))
        if follows:
            return "the recurrence is right but h_0 is not zero: start from h = np.zeros((N, H))"

    def variants(case, got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return None
        if _close(got[0], _forward_variant(**case, carry=False)[0]):
            return ("every step starts from h_0 = 0: the state is not carried. Feed each new state into the next "
                    "step (h = new state inside the loop)")
        square = case["xs"].shape[2] == case["W_hh"].shape[0]
        for text, options in _step_slips(square):
            with np.errstate(all="ignore"):
                if _close(got[0], _forward_variant(**case, **options)[0]):
                    return text

    return [not_a_pair, layout, first_state, variants]


def check_rnn_forward(fn) -> CheckResult:
    """Check ``fn(xs, W_ih, W_hh, b_ih, b_hh) -> (outputs, h_last)`` from h_0 = 0 against ``unroll(rnn_cell, ...)``."""
    return _run("check_rnn_forward", fn, rnn_forward_reference, _forward_cases(), _describe_forward,
                _forward_difference, _forward_hints())


# ---------------------------------------------------------------------------------- parameter count


def rnn_parameter_count_reference(input_size, hidden_size, num_layers, bidirectional):
    """Parameters of nn.RNN(input_size, hidden_size, num_layers, bidirectional=...) with its two biases."""
    return recurrent_parameter_count("rnn", input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)


def _count(f, h, layers, bidirectional, *, biases=2, doubled=True, deep_reads="directions"):
    directions = 2 if bidirectional and doubled else 1
    total = 0
    for layer in range(layers):
        if layer == 0 or deep_reads == "input":
            reads = f
        else:
            reads = (2 if bidirectional else 1) * h if deep_reads == "directions" else h
        total += directions * (h * reads + h * h + biases * h)
    return total


def _count_cases():
    return [{"input_size": f, "hidden_size": h, "num_layers": n, "bidirectional": b}
            for f, h, n, b in [(4, 5, 1, False), (10, 3, 1, True), (4, 5, 2, False), (4, 5, 2, True),
                               (7, 16, 3, True), (1, 1, 1, False), (32, 128, 2, True)]]


def _describe_count(case):
    return ", ".join(f"{k} = {v}" for k, v in case.items())


def _count_difference(got, expected) -> str | None:
    g = _array(got)
    if g is None or g.shape != ():
        return f"got {got!r}; expected one whole number"
    if abs(float(g) - expected) < 0.5:
        return None
    return f"got {float(g):g}, expected {expected:,}"


def _count_hints():
    slips = [
        ({"biases": 1}, "you counted one bias vector per direction and layer; nn.RNN has two, b_ih and b_hh "
                        "(2H parameters)"),
        ({"biases": 0}, "the biases are missing: each direction of each layer has b_ih and b_hh, 2H parameters"),
        ({"doubled": False, "deep_reads": "h"}, "a bidirectional RNN has two complete sets of weights per layer, one "
                                                "per direction: multiply by 2"),
        ({"doubled": False}, "a bidirectional RNN has two complete sets of weights per layer, one per direction: "
                             "multiply by 2"),
        ({"deep_reads": "h"}, "with bidirectional=True the layers above the first read both directions' states, "
                              "2H numbers per step, so their W_ih is H x 2H"),
        ({"deep_reads": "input"}, "layers above the first read the states of the layer below (H numbers, 2H if "
                                  "bidirectional), not the input features"),
    ]

    def hint(case, got, expected):
        args = (case["input_size"], case["hidden_size"], case["num_layers"], case["bidirectional"])
        for options, text in slips:
            variant = _count(*args, **options)
            if variant != expected and _close(got, variant):
                return text
        if case["num_layers"] > 1 and _close(got, _count(args[0], args[1], 1, args[3])):
            return "you counted the first layer only; every layer has its own weights"

    return [hint]


def check_rnn_parameter_count(fn) -> CheckResult:
    """Check ``fn(input_size, hidden_size, num_layers, bidirectional) -> int`` against nn.RNN's parameter count."""
    return _run("check_rnn_parameter_count", fn, rnn_parameter_count_reference, _count_cases(), _describe_count,
                _count_difference, _count_hints())
