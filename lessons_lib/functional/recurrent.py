"""Recurrent cells (Part IV) with PyTorch's conventions, written once against the array API.

Given the same weights, :func:`rnn_cell`, :func:`lstm_cell` and :func:`gru_cell` equal ``nn.RNNCell``,
``nn.LSTMCell`` and ``nn.GRUCell``, and :func:`unroll` over a sequence equals one layer of ``nn.RNN``,
``nn.LSTM`` and ``nn.GRU``. Shapes: x (N, F) one time step of a batch, h and c (N, H); the weights are stored
as torch stores them, W_ih (G*H, F) and W_hh (G*H, H) with G gate blocks stacked (1 for the RNN, 4 for the
LSTM in the order input, forget, cell, output; 3 for the GRU in the order reset, update, new), and each
product is ``x @ W_ih.T``.

The GRU's convention: PyTorch's update gate z keeps the old state, h' = (1 - z) * n + z * h, as in Cho et
al. (2014, eq. 7). Chung et al. (2014), the source notes and several texts write h' = z * n + (1 - z) * h,
with z choosing the new candidate instead. Both are the same family of models: one gate is the other's
1 - z, which the model gets by negating that gate's weights and bias (sigmoid(-a) = 1 - sigmoid(a)).
"""

from __future__ import annotations

from lessons_lib.functional.activations import relu, sigmoid, tanh
from lessons_lib.validate import as_array, one_library

__all__ = ["gru_cell", "lstm_cell", "rnn_cell", "unroll"]


def rnn_cell(x, h, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh"):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or ReLU): the vanilla (Elman) recurrent step."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity is {nonlinearity!r}; expected 'tanh' or 'relu'")
    a = _affine("rnn_cell", 1, x, h, W_ih, W_hh, b_ih, b_hh)
    return tanh(a) if nonlinearity == "tanh" else relu(a)


def lstm_cell(x, state, W_ih, W_hh, b_ih=None, b_hh=None):
    """One LSTM step (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et al., 2000).

    state = (h, c). Gates i, f, o = sigmoid(...), candidate g = tanh(...), all from x W_ih^T + b_ih + h W_hh^T + b_hh;
    c' = f * c + i * g (forget part of the memory, write part of the candidate), h' = o * tanh(c').
    Returns (h', c').
    """
    h, c = state
    a = _affine("lstm_cell", 4, x, h, W_ih, W_hh, b_ih, b_hh)
    H = int(h.shape[-1])
    i, f, g, o = (a[..., k * H : (k + 1) * H] for k in range(4))
    c_new = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_new), c_new


def gru_cell(x, h, W_ih, W_hh, b_ih=None, b_hh=None):
    """One GRU step (Cho et al., 2014) in PyTorch's form:

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),  z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz),
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),  h' = (1 - z) * n + z * h.
    The reset gate multiplies the recurrent part of n *after* its bias, as torch (and cuDNN) compute it.
    """
    fn = "gru_cell"
    xp = _check(fn, 3, x, h, W_ih, W_hh, b_ih, b_hh)
    H = int(h.shape[-1])
    gi = x @ xp.matrix_transpose(W_ih) + (b_ih if b_ih is not None else 0.0)
    gh = h @ xp.matrix_transpose(W_hh) + (b_hh if b_hh is not None else 0.0)
    r = sigmoid(gi[..., :H] + gh[..., :H])
    z = sigmoid(gi[..., H : 2 * H] + gh[..., H : 2 * H])
    n = tanh(gi[..., 2 * H :] + r * gh[..., 2 * H :])
    return (1 - z) * n + z * h


def unroll(cell, xs, state, *weights, batch_first: bool = False, **options):
    """Run ``cell`` over a sequence: xs (T, N, F), or (N, T, F) with ``batch_first``.

    state: the initial h (or (h, c) for :func:`lstm_cell`); weights: the cell's W_ih, W_hh, b_ih, b_hh.
    Returns (outputs, final state): outputs stacks h at every step, (T, N, H) (or (N, T, H)), as one layer of
    ``nn.RNN``/``nn.GRU``/``nn.LSTM`` returns them.
    """
    xs, xp = as_array("unroll", "xs", xs)
    if len(xs.shape) != 3:
        raise ValueError(f"unroll: xs has shape {tuple(xs.shape)}; expected (T, N, F), or (N, T, F) with batch_first")
    steps = int(xs.shape[1 if batch_first else 0])
    outputs = []
    for t in range(steps):
        state = cell(xs[:, t] if batch_first else xs[t], state, *weights, **options)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return xp.stack(outputs, axis=1 if batch_first else 0), state


def _affine(fn, gates, x, h, W_ih, W_hh, b_ih, b_hh):
    xp = _check(fn, gates, x, h, W_ih, W_hh, b_ih, b_hh)
    a = x @ xp.matrix_transpose(W_ih) + h @ xp.matrix_transpose(W_hh)
    for b in (b_ih, b_hh):
        if b is not None:
            a = a + b
    return a


def _check(fn, gates, x, h, W_ih, W_hh, b_ih, b_hh):
    named = {"x": x, "h": h, "W_ih": W_ih, "W_hh": W_hh} | {k: v for k, v in (("b_ih", b_ih), ("b_hh", b_hh)) if v is not None}
    xp = one_library(fn, named)
    if len(x.shape) != 2 or len(h.shape) != 2 or x.shape[0] != h.shape[0]:
        raise ValueError(f"{fn}: x has shape {tuple(x.shape)} and h {tuple(h.shape)}; expected (N, F) and (N, H)")
    F_, H = int(x.shape[1]), int(h.shape[1])
    for name, w, cols in (("W_ih", W_ih, F_), ("W_hh", W_hh, H)):
        if tuple(int(d) for d in w.shape) != (gates * H, cols):
            raise ValueError(f"{fn}: {name} has shape {tuple(w.shape)}; expected ({gates} * {H}, {cols}) = "
                             f"({gates * H}, {cols}) for input size {F_} and hidden size {H}")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(int(d) for d in b.shape) != (gates * H,):
            raise ValueError(f"{fn}: {name} has shape {tuple(b.shape)}; expected ({gates * H},)")
    return xp
