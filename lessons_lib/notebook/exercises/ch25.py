"""Checkers for the exercises of Chapter 25 (LSTM and GRU).

- :func:`check_lstm_step`: one LSTM step in NumPy from weights stored as PyTorch stores them (``W_ih`` (4H, F),
  ``W_hh`` (4H, H), two biases, gate blocks in the order input, forget, cell candidate, output), returning
  ``(h_new, c_new)``;
- :func:`check_gru_step`: one GRU step in PyTorch's form (gate blocks reset, update, new; the reset gate applied
  after the recurrent matmul; ``h' = (1 - z) * n + z * h``).

The references are :func:`lessons_lib.functional.recurrent.lstm_cell` and :func:`gru_cell`, which equal
``nn.LSTMCell`` and ``nn.GRUCell`` (tested in ``tests/test_recurrent.py`` and again in
``tests/test_exercises_ch25.py``). The hints recognise the usual slips by recomputing them: another gate order
(i, f, o, g is common in from-scratch code), sigmoid and tanh swapped, ``h = o * c`` without the tanh, the old cell
state in ``h``, a missing gate or bias, the notes' update convention for the GRU, and the reset gate applied before
the matmul (Cho et al.'s form) or outside ``b_hn``.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.recurrent import gru_cell, lstm_cell
from lessons_lib.notebook.checking import CheckResult, compare, compare_parts, same_values

__all__ = ["check_gru_step", "check_lstm_step", "gru_step_reference", "lstm_step_reference"]


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _sizes(case) -> str:
    """A case named by its sizes (the random matrices themselves would fill the screen)."""
    n, f = case["x"].shape
    return f"a batch of N = {n}, input size F = {f}, hidden size H = {case['h'].shape[1]} (random weights)"


def _check(name, fn, reference, cases, compare_fn, hints) -> CheckResult:
    return compare(fn, reference, cases, name=name, describe=_sizes, hints=hints, compare_fn=compare_fn, numbered=True)


# -------------------------------------------------------------------------------------------- LSTM


def lstm_step_reference(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """(h', c') of one LSTM step with torch's layout: what ``nn.LSTMCell`` returns."""
    return lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh)


def _lstm_cases():
    rng = np.random.default_rng(25)
    cases = []
    for n, f, hidden, scale in [(3, 4, 5, 0.5), (1, 2, 3, 1.0), (4, 3, 2, 2.0), (2, 6, 4, 1.5), (5, 1, 6, 3.0)]:
        cases.append({
            "x": rng.normal(size=(n, f)),
            "h": np.tanh(rng.normal(size=(n, hidden))),
            "c": rng.normal(size=(n, hidden)) * 2.0,            # a cell state outside [-1, 1], as after training
            "W_ih": rng.normal(size=(4 * hidden, f)) * scale,
            "W_hh": rng.normal(size=(4 * hidden, hidden)) * scale,
            "b_ih": rng.normal(size=4 * hidden) * scale,
            "b_hh": rng.normal(size=4 * hidden) * scale,
        })
    return cases


def _lstm_variant(x, h, c, W_ih, W_hh, b_ih, b_hh, *, order="ifgo", squash="normal", h_from="tanh_new",
                  drop=None, biases="both"):
    """The LSTM step with one slip: another gate order, swapped nonlinearities, h without tanh, and so on."""
    bias = {"both": b_ih + b_hh, "ih": b_ih, "hh": b_hh, "none": 0.0}[biases]
    a = x @ W_ih.T + h @ W_hh.T + bias
    H = h.shape[1]
    blocks = dict(zip(order, (a[:, k * H:(k + 1) * H] for k in range(4))))
    gate, cand = (_sig, np.tanh) if squash == "normal" else (np.tanh, _sig)
    i, f, g, o = gate(blocks["i"]), gate(blocks["f"]), cand(blocks["g"]), gate(blocks["o"])
    if drop == "forget":
        f = 1.0
    elif drop == "input":
        i = 1.0
    c_new = f * c + i * g
    if h_from == "tanh_new":
        h_new = o * np.tanh(c_new)
    elif h_from == "no_tanh":
        h_new = o * c_new
    else:  # the old cell state
        h_new = o * np.tanh(c)
    return h_new, c_new


def _pair_of_arrays(got):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None
    try:
        return [np.asarray(g.detach().cpu().numpy() if hasattr(g, "detach") else g, dtype=float) for g in got]
    except (TypeError, ValueError):
        return None


def _lstm_hints():
    def matches(case, got, **slip):
        pair = _pair_of_arrays(got)
        if pair is None:
            return False
        h_new, c_new = _lstm_variant(**case, **slip)
        return same_values(pair[0], h_new) and same_values(pair[1], c_new)

    def swapped_outputs(case, got, expected):
        pair = _pair_of_arrays(got)
        if pair is not None and same_values(pair[0], expected[1]) and same_values(pair[1], expected[0]):
            return "you returned (c, h); return the pair in nn.LSTMCell's order, (h_new, c_new)"

    def order(case, got, expected):
        for wrong in ("ifog", "fiog", "figo", "iofg", "gifo"):
            if matches(case, got, order=wrong):
                shown = ", ".join(wrong)
                return (f"you read the four gate blocks in the order {shown}; PyTorch stacks them as input, forget, "
                        "cell candidate, output (i, f, g, o): rows [0:H] are i, [H:2H] f, [2H:3H] g, [3H:4H] o")
        return None

    def squash(case, got, expected):
        if matches(case, got, squash="swapped"):
            return ("sigmoid and tanh are swapped: the gates i, f, o are sigmoids (numbers between 0 and 1 that scale), "
                    "the candidate g is a tanh (a value between -1 and 1 to write)")

    def no_tanh(case, got, expected):
        if matches(case, got, h_from="no_tanh"):
            return "h_new should be o * tanh(c_new): the cell state is squashed by tanh before the output gate scales it"

    def old_cell(case, got, expected):
        if matches(case, got, h_from="old_cell"):
            return "h_new uses the old cell state; compute c_new first, then h_new = o * tanh(c_new)"

    def missing_gate(case, got, expected):
        if matches(case, got, drop="forget"):
            return "c_new = c + i * g ignores the forget gate: c_new = f * c + i * g"
        if matches(case, got, drop="input"):
            return "c_new = f * c + g ignores the input gate: c_new = f * c + i * g"

    def one_bias(case, got, expected):
        for which, name in (("ih", "b_ih"), ("hh", "b_hh"), ("none", "no bias")):
            if matches(case, got, biases=which):
                used = f"only {name}" if which != "none" else "no bias"
                return f"you used {used}; PyTorch adds both biases: x W_ih^T + b_ih + h W_hh^T + b_hh"

    return [swapped_outputs, order, squash, no_tanh, old_cell, missing_gate, one_bias]


def check_lstm_step(fn):
    """Check ``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_new, c_new)`` against ``nn.LSTMCell``'s formula."""
    return _check("check_lstm_step", fn, lstm_step_reference, _lstm_cases(),
                  compare_parts(["h_new", "c_new"], rtol=1e-6, atol=1e-9), _lstm_hints())


# --------------------------------------------------------------------------------------------- GRU


def gru_step_reference(x, h, W_ih, W_hh, b_ih, b_hh):
    """h' of one GRU step in torch's form: what ``nn.GRUCell`` returns."""
    return gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)


def _compare_h(got, expected) -> str | None:
    """None when ``got`` is h_new (one array of h's shape), else what is wrong with it."""
    if isinstance(got, (tuple, list)):
        return f"got a {type(got).__name__} of length {len(got)}; a GRU step returns one array, h_new"
    return compare_parts(["h_new"], rtol=1e-6, atol=1e-9)((got,), (expected,))


def _gru_cases():
    rng = np.random.default_rng(2014)
    cases = []
    for n, f, hidden, scale in [(3, 4, 5, 0.7), (1, 2, 3, 1.0), (4, 3, 2, 2.0), (2, 5, 4, 1.5), (6, 1, 3, 2.5)]:
        cases.append({
            "x": rng.normal(size=(n, f)),
            "h": np.tanh(rng.normal(size=(n, hidden)) * 2),
            "W_ih": rng.normal(size=(3 * hidden, f)) * scale,
            "W_hh": rng.normal(size=(3 * hidden, hidden)) * scale,
            "b_ih": rng.normal(size=3 * hidden) * scale,
            "b_hh": rng.normal(size=3 * hidden) * scale,
        })
    return cases


def _gru_variant(x, h, W_ih, W_hh, b_ih, b_hh, *, order="rzn", update="torch", reset="after", candidate="tanh"):
    H = h.shape[1]
    gi, gh = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    pos = {name: k for k, name in enumerate(order)}
    block = lambda a, name: a[:, pos[name] * H:(pos[name] + 1) * H]  # noqa: E731
    r = _sig(block(gi, "r") + block(gh, "r"))
    z = _sig(block(gi, "z") + block(gh, "z"))
    W_hn = W_hh[pos["n"] * H:(pos["n"] + 1) * H]
    b_hn = b_hh[pos["n"] * H:(pos["n"] + 1) * H]
    if reset == "after":
        recurrent = r * (h @ W_hn.T + b_hn)
    elif reset == "before":         # Cho et al. (2014): the reset gate scales h before the matmul
        recurrent = (r * h) @ W_hn.T + b_hn
    else:                           # r scales the matmul but not its bias
        recurrent = r * (h @ W_hn.T) + b_hn
    squash = np.tanh if candidate == "tanh" else _sig
    n = squash(block(gi, "n") + recurrent)
    return (1 - z) * n + z * h if update == "torch" else z * n + (1 - z) * h


def _gru_hints():
    def matches(got, case, **slip):
        return same_values(got, _gru_variant(**case, **slip))

    def update(case, got, expected):
        if matches(got, case, update="notes"):
            return ("that is the other convention, h' = z * n + (1 - z) * h. In PyTorch (and Cho et al., 2014) the "
                    "update gate keeps the OLD state: h' = (1 - z) * n + z * h")

    def reset_place(case, got, expected):
        if matches(got, case, reset="before"):
            return ("you applied the reset gate before the matmul, W_hn (r * h) + b_hn (Cho et al.'s form). PyTorch "
                    "applies it after: r * (h W_hn^T + b_hn)")
        if matches(got, case, reset="outside_bias"):
            return "in PyTorch the reset gate multiplies b_hn too: n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))"

    def order(case, got, expected):
        for wrong in ("zrn", "nrz", "rnz", "znr", "nzr"):
            for upd in ("torch", "notes"):
                if matches(got, case, order=wrong, update=upd):
                    return (f"you read the gate blocks in the order {', '.join(wrong)}; PyTorch stacks them as reset, "
                            "update, new (r, z, n)")

    def squash(case, got, expected):
        if matches(got, case, candidate="sigmoid"):
            return "the candidate n is a tanh (a new value between -1 and 1), not a sigmoid"

    return [update, reset_place, order, squash]


def check_gru_step(fn):
    """Check ``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_new`` against ``nn.GRUCell``'s formula."""
    return _check("check_gru_step", fn, gru_step_reference, _gru_cases(), _compare_h, _gru_hints())
