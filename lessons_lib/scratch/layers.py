"""From-scratch NumPy layers with an explicit forward and backward pass.

Every layer has two methods:

- ``forward(x)`` computes the output and keeps what the backward pass will need (usually ``x``);
- ``backward(grad_out)`` receives dL/d(output), stores dL/d(parameter) in each parameter's ``.grad``,
  and returns dL/d(input), which becomes the ``grad_out`` of the layer before it.

Conventions (chosen once for the whole book):

- Data are rows: ``x`` has shape (N, features), one sample per row.
- ``Linear`` stores ``W`` with shape (in_features, out_features) and computes ``x @ W + b``, which reads
  like the maths z = xW + b for a row vector x. PyTorch's ``nn.Linear`` stores ``weight`` as
  (out_features, in_features) and computes ``x @ weight.T + bias``; copy weights across with a transpose.
- Gradients *accumulate* (``+=``) as in PyTorch: call ``zero_grad()`` (on the layer, the ``Sequential``
  or the optimizer) before each backward pass.
- A layer computes in its parameters' dtype, float32 by default; ``x`` is converted to it. Build a
  layer with ``dtype=np.float64`` for gradient checks.
- Layers start in training mode. ``eval()`` switches a layer (or a whole ``Sequential``) to evaluation
  mode and ``train()`` back, as in torch; only ``Dropout`` and ``BatchNorm1d`` behave differently.

Example::

    >>> net = mlp([784, 256, 10], rng=0)
    >>> loss_fn, opt = SoftmaxCrossEntropy(), GradientDescent(net.parameters(), lr=0.1)
    >>> loss = loss_fn.forward(net.forward(x), y)   # x: (N, 784) float32, y: (N,) ints
    >>> opt.zero_grad()
    >>> net.backward(loss_fn.backward())
    >>> opt.step()
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from lessons_lib import validate
from lessons_lib.functional.activations import (
    identity,
    identity_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    tanh,
    tanh_grad,
)
from lessons_lib.functional.conv import conv_output_size, im2col
from lessons_lib.functional.losses import bce_with_logits, cross_entropy, mse
from lessons_lib.scratch import init as initializers

INITS = {
    "he_normal": initializers.he_normal,
    "he_uniform": initializers.he_uniform,
    "xavier_normal": initializers.xavier_normal,
    "xavier_uniform": initializers.xavier_uniform,
    "normal": lambda fan_in, fan_out, rng=None, dtype=np.float32: initializers.normal(
        (fan_in, fan_out), rng=rng, dtype=dtype),
    "zeros": lambda fan_in, fan_out, rng=None, dtype=np.float32: initializers.zeros((fan_in, fan_out), dtype),
}


class Parameter:
    """A trainable array and the gradient of the loss with respect to it (same shape, starts at zero)."""

    def __init__(self, data: np.ndarray, name: str = ""):
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def zero_grad(self) -> None:
        self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Layer:
    """Base class: a layer without parameters. Subclasses override ``forward`` and ``backward``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    # Training or evaluation mode. Dropout and BatchNorm1d behave differently while a network learns and
    # when it is used; the other layers ignore the flag. A class attribute, so every layer starts in training.
    training = True

    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (``mode=True``) or evaluation mode; returns the layer itself."""
        self.training = bool(mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode, the same as ``train(False)``; returns the layer itself."""
        return self.train(False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _check_backward(self, cached, grad_out: np.ndarray, out_shape) -> None:
        """Raise a clear error if backward comes before forward or grad_out has the wrong shape."""
        name = type(self).__name__
        if cached is None:
            raise RuntimeError(f"{name}.backward called before forward")
        if np.shape(grad_out) != tuple(out_shape):
            raise ValueError(f"{name}.backward: grad_out has shape {np.shape(grad_out)} "
                             f"but the forward output had shape {tuple(out_shape)}")


class Linear(Layer):
    """A fully connected layer: out = x @ W + b.

    Shapes: x (N, in_features) -> out (N, out_features); W (in_features, out_features); b (out_features,).

    Args:
        init: name of an initialiser for W (``"he_normal"`` (default, for ReLU), ``"he_uniform"``,
            ``"xavier_normal"``, ``"xavier_uniform"``, ``"normal"``, ``"zeros"``) or a function
            ``init(fan_in, fan_out, rng=..., dtype=...)``. The bias starts at zero.
        rng: numpy Generator or int seed for the initialiser.
        dtype: the dtype of the parameters and of the computation.
    """

    def __init__(self, in_features: int, out_features: int, *, init="he_normal", bias: bool = True,
                 rng=None, dtype=np.float32):
        init_fn = INITS.get(init) if isinstance(init, str) else init
        if init_fn is None:
            raise ValueError(f"Linear: unknown init {init!r}; expected one of {sorted(INITS)} or a function")
        self.in_features, self.out_features = in_features, out_features
        self.W = Parameter(np.asarray(init_fn(in_features, out_features, rng=rng, dtype=dtype), dtype), "W")
        self.b = Parameter(np.zeros(out_features, dtype=dtype), "b") if bias else None
        self._x = None  # the input of the last forward pass

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [("W", self.W)] + ([("b", self.b)] if self.b is not None else [])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, in_features) -> (N, out_features)."""
        x = np.asarray(x, dtype=self.W.data.dtype)  # no copy when the dtype already matches
        if x.ndim != 2:
            raise ValueError(f"Linear: x must be 2-D (N, {self.in_features}), got shape {x.shape}")
        if x.shape[1] != self.in_features:
            raise ValueError(f"Linear: x has {x.shape[1]} features but W expects {self.in_features}")
        self._x = x
        out = x @ self.W.data
        if self.b is not None:
            out += self.b.data  # broadcast over the N rows, in place
        return out

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """grad_out (N, out_features) -> dL/dx (N, in_features); adds dL/dW and dL/db to ``.grad``.

        dL/dW = x.T @ grad_out, dL/db = grad_out summed over the batch, dL/dx = grad_out @ W.T.
        With ``input_grad=False`` the last product is skipped and None returned: the first layer of a
        network never needs dL/dx, and that product costs about as much as the one for dL/dW.
        """
        x = self._x
        self._check_backward(x, grad_out, (len(x) if x is not None else 0, self.out_features))
        self.W.grad += x.T @ grad_out
        if self.b is not None:
            self.b.grad += grad_out.sum(axis=0)
        return grad_out @ self.W.data.T if input_grad else None

    def __repr__(self) -> str:
        return f"Linear({self.in_features} -> {self.out_features}, bias={self.b is not None})"


class Activation(Layer):
    """An elementwise activation a = f(z): backward multiplies grad_out by f'(z). Any shape in, same out."""

    def __init__(self):
        self._z = None

    def f(self, z):
        raise NotImplementedError

    def f_grad(self, z):
        raise NotImplementedError

    def forward(self, z: np.ndarray) -> np.ndarray:
        self._z = z
        return self.f(z)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        z = self._z
        self._check_backward(z, grad_out, np.shape(z))
        return grad_out * self.f_grad(z)


class Sigmoid(Activation):
    """Elementwise logistic sigmoid; f'(z) = s(z)(1 - s(z)). Any shape in, same shape out."""

    def f(self, z):
        return sigmoid(z)

    def f_grad(self, z):
        return sigmoid_grad(z)


class Tanh(Activation):
    """Elementwise tanh; f'(z) = 1 - tanh(z)^2. Any shape in, same shape out."""

    def f(self, z):
        return tanh(z)

    def f_grad(self, z):
        return tanh_grad(z)


class ReLU(Activation):
    """Elementwise max(0, z); f'(z) = 1 for z > 0, else 0 (0 at the kink, like torch). Any shape."""

    def f(self, z):
        return relu(z)

    def f_grad(self, z):
        return relu_grad(z)


class LeakyReLU(Activation):
    """Elementwise z for z > 0, else negative_slope * z; f'(z) = 1 or negative_slope. Any shape."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def f(self, z):
        return leaky_relu(z, self.negative_slope)

    def f_grad(self, z):
        return leaky_relu_grad(z, self.negative_slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Identity(Activation):
    """f(z) = z, f'(z) = 1: a linear output layer, or a placeholder. Any shape."""

    def f(self, z):
        return identity(z)

    def f_grad(self, z):
        return identity_grad(z)


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer class targets, as one loss layer.

    Fusing softmax with the loss gives a simple, stable gradient: dL/dlogits = (softmax(logits) - onehot) / N.

    Shapes: logits (N, C), targets (N,) ints in [0, C) -> a scalar.
    """

    def __init__(self):
        self._probs = self._targets = None

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        loss = float(cross_entropy(logits, targets, reduction="mean"))  # checks shapes and class range
        targets = np.asarray(targets)
        if targets.ndim != 1 or not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(f"SoftmaxCrossEntropy: targets must be integer class indices of shape (N,), "
                             f"got {targets.dtype} of shape {targets.shape}")
        self._probs, self._targets = softmax(logits, axis=-1), targets
        return loss

    def backward(self, grad_out: float = 1.0) -> np.ndarray:
        """Returns dL/dlogits, shape (N, C); ``grad_out`` scales it (dL/dloss, 1 by default)."""
        if self._probs is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward")
        n = len(self._targets)
        grad = self._probs.copy()
        grad[np.arange(n), self._targets] -= 1.0
        grad *= grad_out / n
        return grad

    def __call__(self, logits, targets) -> float:
        return self.forward(logits, targets)

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"


class BCEWithLogitsLoss:
    """Mean binary cross-entropy of sigmoid(logits) against 0/1 targets, as one loss layer.

    As with softmax, fusing the sigmoid into the loss gives a stable value and a simple gradient:
    dL/dlogits = (sigmoid(logits) - y) / N. Shapes: logits and targets both (N,) or both (N, 1).
    """

    def __init__(self):
        self._probs = self._targets = None

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        logits = np.asarray(logits)
        targets = np.asarray(targets, dtype=logits.dtype)
        if logits.shape != targets.shape:
            raise ValueError(f"BCEWithLogitsLoss: logits have shape {logits.shape} but targets have shape {targets.shape}")
        loss = float(bce_with_logits(logits, targets, reduction="mean"))  # also checks targets lie in [0, 1]
        self._probs, self._targets = sigmoid(logits), targets
        return loss

    def backward(self, grad_out: float = 1.0) -> np.ndarray:
        """Returns dL/dlogits, the shape of the logits."""
        if self._probs is None:
            raise RuntimeError("BCEWithLogitsLoss.backward called before forward")
        return (self._probs - self._targets) * (grad_out / self._targets.size)

    def __call__(self, logits, targets) -> float:
        return self.forward(logits, targets)

    def __repr__(self) -> str:
        return "BCEWithLogitsLoss()"


class MSELoss:
    """Mean squared error over all entries: L = mean((y_pred - y_true)^2); dL/dy_pred = 2 (y_pred - y_true) / size.

    Shapes: y_pred and y_true of the same shape (e.g. (N, 1)) -> a scalar.
    """

    def __init__(self):
        self._diff = None

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
        if y_pred.shape != y_true.shape:
            raise ValueError(f"MSELoss: y_pred has shape {y_pred.shape} but y_true has shape {y_true.shape}")
        self._diff = y_pred - y_true
        return float(mse(y_pred, y_true, reduction="mean"))

    def backward(self, grad_out: float = 1.0) -> np.ndarray:
        """Returns dL/dy_pred, the shape of y_pred."""
        if self._diff is None:
            raise RuntimeError("MSELoss.backward called before forward")
        return self._diff * (2.0 * grad_out / self._diff.size)

    def __call__(self, y_pred, y_true) -> float:
        return self.forward(y_pred, y_true)

    def __repr__(self) -> str:
        return "MSELoss()"


class Sequential(Layer):
    """Layers applied one after another; backward runs through them in reverse order."""

    def __init__(self, *layers: Layer):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dL/d(output) -> dL/d(input); every layer's parameter gradients are filled on the way.

        ``input_grad=False`` skips the input gradient of a first ``Linear`` layer (returns None).
        """
        for layer in reversed(self.layers[1:]):
            grad_out = layer.backward(grad_out)
        first = self.layers[0]
        if isinstance(first, (Linear, Sequential)):
            return first.backward(grad_out, input_grad=input_grad)
        return first.backward(grad_out)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """Names like ``"0.W"`` (layer index, then the parameter's name), as in torch's state_dict."""
        return [(f"{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()]

    def train(self, mode: bool = True) -> Sequential:
        """Set training (``mode=True``) or evaluation mode here and on every layer inside, nested ones too."""
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


class GradientDescent:
    """Plain gradient descent over scratch Parameters: p <- p - lr * dL/dp. (PyTorch-style SGD with momentum,
    Adam and the rest: lessons_lib.training.optimizers.)"""

    def __init__(self, params, lr: float):
        self.params = list(params)
        self.lr = lr

    def step(self) -> None:
        for p in self.params:
            p.data -= self.lr * p.grad

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()


ACTIVATION_LAYERS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid, "identity": Identity}


def mlp(sizes, activation: str = "relu", rng=None, init: str | None = None, dtype=np.float32) -> Sequential:
    """A multilayer perceptron: Linear layers of the given sizes with an activation between them.

    ``mlp([784, 256, 10])`` is Linear(784 -> 256), ReLU, Linear(256 -> 10): the output layer has no
    activation, so it returns logits for :class:`SoftmaxCrossEntropy`. ``init`` defaults to He normal
    for ReLU-like activations and Xavier uniform for sigmoid, tanh and identity.
    """
    if activation not in ACTIVATION_LAYERS:
        raise ValueError(f"mlp: unknown activation {activation!r}; expected one of {sorted(ACTIVATION_LAYERS)}")
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least an input and an output size, got {list(sizes)}")
    if init is None:
        init = "he_normal" if activation in ("relu", "leaky_relu") else "xavier_uniform"
    rng = np.random.default_rng(rng)  # one generator shared by all layers
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATION_LAYERS[activation]())
    return Sequential(*layers)


# ---- Dropout and normalisation (Chapters 13 and 14) ------------------------------------------------------


class Dropout(Layer):
    """Inverted dropout: in training, zero each entry with probability p and divide the rest by 1 - p.

    An entry survives with probability 1 - p and is then scaled by 1 / (1 - p), so its expected value is
    unchanged: E[out] = x. That is why evaluation mode can simply be the identity, with no rescaling.
    Backward multiplies grad_out by the very mask (scale included) that the forward pass used, so dropped
    units get no gradient. Each forward pass in training draws a new mask.

    Shapes: any shape in, the same shape out.

    Args:
        p: the probability of dropping an entry, in [0, 1). (torch also accepts p = 1, which zeroes everything.)
        rng: numpy Generator or int seed for the masks.
    """

    def __init__(self, p: float = 0.5, rng=None):
        if not (isinstance(p, numbers.Real) and 0 <= p < 1):
            raise ValueError(f"Dropout: p is {p!r}; expected a probability in [0, 1)")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        self._shape = None  # the input shape of the last forward pass
        self._mask = None  # its scaled mask, 0 or 1 / (1 - p); None when the pass was the identity

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._shape = x.shape
        if not self.training or self.p == 0:
            self._mask = None
            return x
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        keep = self.rng.random(x.shape) >= self.p  # True with probability 1 - p
        self._mask = keep.astype(dtype) / (1 - self.p)
        return x * self._mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self._check_backward(self._shape, grad_out, self._shape)
        return grad_out if self._mask is None else grad_out * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# --------------------------------------------------------------------------------------------------------
# Convolutional layers (Part III): images are (N, C, H, W), weights (C_out, C_in, kH, kW) as in torch


class Conv2d(Layer):
    """A 2-D convolution (cross-correlation) with an explicit backward pass, computed as one matrix
    product over :func:`lessons_lib.functional.conv.im2col`'s columns.

    Shapes: x (N, C_in, H, W) -> out (N, C_out, H_out, W_out); W (C_out, C_in, k, k) as torch stores it,
    so weights copy across to ``nn.Conv2d`` unchanged; b (C_out,). ``stride`` and ``padding`` are whole
    numbers (zero padding on every side). He-normal initialisation with fan-in C_in * k * k.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1, padding: int = 0,
                 bias: bool = True, rng=None, dtype=np.float32):
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding = stride, padding
        fan_in = in_channels * kernel_size * kernel_size
        W = initializers.he_normal(fan_in, out_channels, rng=rng, dtype=dtype).T  # (C_out, fan_in)
        self.W = Parameter(np.ascontiguousarray(W.reshape(out_channels, in_channels, kernel_size, kernel_size)), "W")
        self.b = Parameter(np.zeros(out_channels, dtype=dtype), "b") if bias else None
        self._cache = None  # (input shape, columns) of the last forward pass

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [("W", self.W)] + ([("b", self.b)] if self.b is not None else [])

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self.W.data.dtype)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d: x has shape {x.shape}; expected (N, {self.in_channels}, H, W)")
        k, s, p = self.kernel_size, self.stride, self.padding
        cols = im2col(x, k, stride=s, padding=p)                       # (N, C_in*k*k, H_out*W_out)
        h_out, w_out = conv_output_size(x.shape[2], k, p, s), conv_output_size(x.shape[3], k, p, s)
        out = self.W.data.reshape(self.out_channels, -1) @ cols        # (N, C_out, H_out*W_out)
        if self.b is not None:
            out += self.b.data[:, None]
        self._cache = (x.shape, cols)
        return out.reshape(len(x), self.out_channels, h_out, w_out)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """dL/dW = sum over the batch of grad_out @ columns.T; dL/db = grad_out summed over batch and pixels;
        dL/dx: the kernels' transpose times grad_out gives dL/d(columns), and each column entry is added
        back to the input pixel it was copied from (col2im)."""
        shape, cols = self._cache if self._cache is not None else (None, None)
        n, c_out = (shape[0], self.out_channels) if shape else (0, 0)
        out_shape = (n, c_out, *_out_hw(shape, self.kernel_size, self.padding, self.stride)) if shape else ()
        self._check_backward(self._cache, grad_out, out_shape)
        g = grad_out.reshape(n, c_out, -1)                             # (N, C_out, L)
        self.W.grad += np.einsum("nol,nkl->ok", g, cols).reshape(self.W.shape)
        if self.b is not None:
            self.b.grad += g.sum(axis=(0, 2))
        grad_cols = self.W.data.reshape(c_out, -1).T @ g               # (N, C_in*k*k, L)
        return _col2im(grad_cols, shape, self.kernel_size, self.stride, self.padding)

    def __repr__(self) -> str:
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class MaxPool2d(Layer):
    """Max pooling over k x k windows, ``stride`` apart (default k). The backward pass sends each window's
    gradient to the position of its maximum (the first one on a tie, as torch does) and zero elsewhere."""

    def __init__(self, kernel_size: int, stride: int | None = None):
        self.kernel_size, self.stride = kernel_size, stride or kernel_size
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"MaxPool2d: x has shape {x.shape}; expected (N, C, H, W)")
        n, c = x.shape[:2]
        k, s = self.kernel_size, self.stride
        cols = im2col(x.reshape(n * c, 1, *x.shape[2:]), k, stride=s)   # (N*C, k*k, L): one channel at a time
        where = cols.argmax(axis=1)                                      # (N*C, L)
        h_out, w_out = _out_hw(x.shape, k, 0, s)
        self._cache = (x.shape, where, cols.shape)
        return np.take_along_axis(cols, where[:, None], axis=1).reshape(n, c, h_out, w_out)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        shape = self._cache[0] if self._cache is not None else None
        out_shape = (*shape[:2], *_out_hw(shape, self.kernel_size, 0, self.stride)) if shape else ()
        self._check_backward(self._cache, grad_out, out_shape)
        shape, where, cols_shape = self._cache
        n, c = shape[:2]
        grad_cols = np.zeros(cols_shape, dtype=grad_out.dtype)
        np.put_along_axis(grad_cols, where[:, None], grad_out.reshape(n * c, 1, -1), axis=1)
        grad = _col2im(grad_cols, (n * c, 1, *shape[2:]), self.kernel_size, self.stride, 0)
        return grad.reshape(shape)

    def __repr__(self) -> str:
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), so that a ``Linear`` layer can read a feature map; backward reshapes back."""

    def __init__(self):
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        shape = self._shape
        self._check_backward(shape, grad_out, (shape[0], int(np.prod(shape[1:]))) if shape else ())
        return grad_out.reshape(shape)


def _out_hw(shape, k, p, s):
    return conv_output_size(shape[2], k, p, s), conv_output_size(shape[3], k, p, s)


def _col2im(grad_cols, shape, k, s, p):
    """The adjoint of im2col: add every column entry back onto the input pixel it came from."""
    n, c, h, w = shape
    h_out, w_out = _out_hw(shape, k, p, s)
    grad_cols = grad_cols.reshape(n, c, k, k, h_out, w_out)
    grad = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=grad_cols.dtype)
    for u in range(k):
        for v in range(k):  # the pixels each window holds at kernel position (u, v)
            grad[:, :, u : u + s * (h_out - 1) + 1 : s, v : v + s * (w_out - 1) + 1 : s] += grad_cols[:, :, u, v]
    return grad[:, :, p : p + h, p : p + w]


# --------------------------------------------------------------------------------------------------------
# A recurrent layer (Part IV): backpropagation through time by hand


class RNN(Layer):
    """A vanilla (Elman) recurrent layer over a whole sequence, with backpropagation through time written out.

    Shapes: xs (T, N, F) -> hs (T, N, H), the hidden state after every step;
    h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b), with h_0 zero unless given. W_ih (H, F) and W_hh (H, H) are
    stored as torch stores them (``nn.RNN``'s ``weight_ih_l0``, ``weight_hh_l0``); ``b`` is torch's
    ``bias_ih_l0 + bias_hh_l0``.

    ``truncate=k`` cuts the backward pass every k steps, as a PyTorch loop that calls ``h.detach()`` before
    steps k, 2k, ...: the forward values are unchanged, but no gradient flows from a chunk into the one before.
    """

    def __init__(self, input_size: int, hidden_size: int, *, truncate: int | None = None, rng=None,
                 dtype=np.float32):
        if truncate is not None:
            truncate = validate.integer("RNN", "truncate", truncate, minimum=1)
        rng = np.random.default_rng(rng)
        bound = 1 / np.sqrt(hidden_size)  # torch's default: uniform in [-1/sqrt(H), 1/sqrt(H)]
        self.W_ih = Parameter(rng.uniform(-bound, bound, (hidden_size, input_size)).astype(dtype), "W_ih")
        self.W_hh = Parameter(rng.uniform(-bound, bound, (hidden_size, hidden_size)).astype(dtype), "W_hh")
        self.b = Parameter(rng.uniform(-bound, bound, hidden_size).astype(dtype), "b")
        self.input_size, self.hidden_size, self.truncate = input_size, hidden_size, truncate
        self._cache = None

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [("W_ih", self.W_ih), ("W_hh", self.W_hh), ("b", self.b)]

    def forward(self, xs: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        xs = np.asarray(xs, dtype=self.W_ih.data.dtype)
        if xs.ndim != 3 or xs.shape[2] != self.input_size:
            raise ValueError(f"RNN: xs has shape {xs.shape}; expected (T, N, {self.input_size})")
        h = np.zeros((xs.shape[1], self.hidden_size), xs.dtype) if h0 is None else np.asarray(h0, xs.dtype)
        states = [h]
        for x in xs:
            h = np.tanh(x @ self.W_ih.data.T + h @ self.W_hh.data.T + self.b.data)
            states.append(h)
        self._cache = (xs, np.stack(states))  # states[0] is h_0, states[t] is h_t
        return self._cache[1][1:]

    def backward(self, grad_hs: np.ndarray) -> np.ndarray:
        """grad_hs (T, N, H): dL/dh_t from the loss directly, at every step. Walks back from the last step:
        dL/dh_t = grad_hs[t] + (what came back from step t + 1); through tanh, da_t = dL/dh_t * (1 - h_t^2);
        then dW_ih += da_t^T x_t, dW_hh += da_t^T h_{t-1}, db += sum da_t, dL/dx_t = da_t W_ih, and
        dL/dh_{t-1} = da_t W_hh unless the truncation cuts there. Returns dL/dxs; ``grad_h0`` holds dL/dh_0."""
        xs, states = self._cache if self._cache is not None else (None, None)
        self._check_backward(self._cache, grad_hs, states[1:].shape if states is not None else ())
        grad_xs = np.zeros_like(xs)
        carried = np.zeros_like(states[0])
        for t in range(len(xs) - 1, -1, -1):  # step t maps h_t (states[t]) to h_{t+1} (states[t + 1])
            da = (grad_hs[t] + carried) * (1 - states[t + 1] ** 2)
            self.W_ih.grad += da.T @ xs[t]
            self.W_hh.grad += da.T @ states[t]
            self.b.grad += da.sum(axis=0)
            grad_xs[t] = da @ self.W_ih.data
            cut = self.truncate is not None and t > 0 and t % self.truncate == 0
            carried = np.zeros_like(carried) if cut else da @ self.W_hh.data
        self.grad_h0 = carried
        return grad_xs

    def __repr__(self) -> str:
        return f"RNN({self.input_size}, {self.hidden_size}, truncate={self.truncate})"
