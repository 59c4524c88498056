"""Activation functions and their derivatives (Chapters 3 and 4).

Each function is written once against the array API, so the same code runs on NumPy arrays and on torch
tensors (CPU or GPU) and torch autograd can differentiate straight through it. Python lists and numbers are
accepted too: they become NumPy float64 arrays (``np.asarray``). Integer arrays are cast to the default
floating type of their library (float64 in NumPy, float32 in torch).

Naming: ``f(z)`` is the activation and ``f_grad(z)`` its derivative df/dz, elementwise, with the same shape
as ``z``. Where a function has a kink, the derivative takes the value torch uses there (written in each
docstring). Softmax and log-softmax mix the entries along an axis, so instead of a derivative they come with
a vector-Jacobian product ``*_vjp(z, grad_out)``: the gradient with respect to ``z`` of ``sum(grad_out * f(z))``.

Stability: ``exp`` is only ever called on numbers <= 0 (or on ``z - max(z)``), so nothing overflows, even
for |z| = 1e4 in float32. Where a formula has two branches, each branch is evaluated on an input clamped
to its own side of zero, so the branch that ``where`` throws away never holds an inf or a NaN that autograd
could multiply by zero.
"""

from __future__ import annotations

import numbers

from array_api_compat import array_namespace

from lessons_lib.validate import as_array, number

# --------------------------------------------------------------------------------------------------------
# Input checks shared by activations.py and losses.py


def _shape(a) -> tuple:
    return tuple(int(s) for s in a.shape)


def _check_axis(fn: str, z, axis) -> None:
    ndim = len(z.shape)
    if ndim == 0:
        raise ValueError(f"{fn}: z is a single number (shape ()); expected an array with at least one axis")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fn}: axis is {axis!r}; expected an integer")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{fn}: axis {axis} is out of range for z with shape {_shape(z)}")


def _broadcasts_to(small: tuple, big: tuple) -> bool:
    """True when an array of shape ``small`` broadcasts to shape ``big`` (without growing it)."""
    return len(small) <= len(big) and all(s in (1, b) for s, b in zip(reversed(small), reversed(big)))


def _split(xp, z, cond):
    """Return ``(where(cond, z, 0), where(cond, 0, z))``: z clamped to each side of a branch."""
    return xp.where(cond, z, 0.0), xp.where(cond, 0.0, z)


# --------------------------------------------------------------------------------------------------------
# Elementwise activations


def step(z):
    """Heaviside step: 1 where z >= 0, else 0 (the perceptron's threshold unit).

    Output in {0, 1}, same shape and dtype as z. We take step(0) = 1, as ``torch.heaviside(z, 1.0)`` does.
    """
    z, xp = as_array("step", "z", z)
    return xp.astype(z >= 0, z.dtype)


def step_grad(z):
    """Derivative of :func:`step`: 0 everywhere (same shape as z).

    At z = 0 the true derivative does not exist (the function jumps), and everywhere else it is 0, so a
    gradient carries no information about which way to move the weights. That is why the perceptron
    learning rule updates with the error itself rather than with a gradient.
    """
    z, xp = as_array("step_grad", "z", z)
    return xp.zeros_like(z)


def identity(z):
    """Identity (linear) activation f(z) = z: the usual output unit for regression. Range (-inf, inf)."""
    z, _ = as_array("identity", "z", z)
    return z


def identity_grad(z):
    """Derivative of :func:`identity`: 1 everywhere (same shape as z)."""
    z, xp = as_array("identity_grad", "z", z)
    return xp.ones_like(z)


def sigmoid(z):
    """Logistic sigmoid 1 / (1 + exp(-z)), elementwise. Range (0, 1); same shape as z.

    Two algebraically equal forms are used, each on its own side of zero: 1 / (1 + exp(-z)) for z >= 0
    and exp(z) / (1 + exp(z)) for z < 0, so exp never sees a positive number and cannot overflow.
    In floating point the two tails differ. Near 1 the spacing of the numbers is fixed, so the output rounds
    to exactly 1 from z of about 17 (float32) or 37 (float64). Near 0 the numbers get ever finer, so the
    output keeps tiny values (subnormal ones at the end) and is exactly 0 only below about -104 (float32)
    or -745 (float64).
    """
    z, xp = as_array("sigmoid", "z", z)
    pos = z >= 0
    e = xp.exp(xp.where(pos, -z, z))  # exp(-|z|), in (0, 1]; written with where so the gradient at 0 is right
    return xp.where(pos, 1.0, e) / (1 + e)  # 1 / (1 + exp(-z)) for z >= 0, exp(z) / (1 + exp(z)) below


def sigmoid_grad(z):
    """Derivative of :func:`sigmoid`: s(z) * (1 - s(z)) = s(z) * s(-z). Range (0, 0.25], peak at z = 0.

    Written as s(z) * s(-z) because 1 - s(z) loses all its digits once s(z) is close to 1.
    """
    z, _ = as_array("sigmoid_grad", "z", z)
    return sigmoid(z) * sigmoid(-z)


def tanh(z):
    """Hyperbolic tangent (e^z - e^-z) / (e^z + e^-z) = 2 * sigmoid(2z) - 1. Range (-1, 1), zero-centred."""
    z, xp = as_array("tanh", "z", z)
    return xp.tanh(z)


def tanh_grad(z):
    """Derivative of :func:`tanh`: 1 - tanh(z)^2. Range (0, 1], peak at z = 0."""
    z, xp = as_array("tanh_grad", "z", z)
    return 1 - xp.tanh(z) ** 2


def relu(z):
    """Rectified linear unit max(0, z), elementwise. Range [0, inf); same shape as z.

    A NaN input stays NaN (as in torch), so a network that has diverged stays visibly diverged.
    """
    z, xp = as_array("relu", "z", z)
    return xp.where(z <= 0, 0.0, z)


def relu_grad(z):
    """Derivative of :func:`relu`: 1 where z > 0, else 0. At the kink z = 0 we use 0, as torch does."""
    z, xp = as_array("relu_grad", "z", z)
    return xp.astype(z > 0, z.dtype)


def leaky_relu(z, negative_slope: float = 0.01):
    """Leaky ReLU: z where z > 0, negative_slope * z elsewhere. Range (-inf, inf) when negative_slope > 0.

    ``negative_slope`` (>= 0) is the slope of the line on the negative side; it is a small positive number,
    so negative inputs give small negative outputs and a small non-zero gradient.
    """
    z, xp = as_array("leaky_relu", "z", z)
    negative_slope = number("leaky_relu", "negative_slope", negative_slope, low=0)
    return xp.where(z > 0, z, negative_slope * z)


def leaky_relu_grad(z, negative_slope: float = 0.01):
    """Derivative of :func:`leaky_relu`: 1 where z > 0, else negative_slope (including z = 0, as in torch)."""
    z, xp = as_array("leaky_relu_grad", "z", z)
    negative_slope = number("leaky_relu_grad", "negative_slope", negative_slope, low=0)
    one = xp.ones_like(z)
    return xp.where(z > 0, one, negative_slope * one)


def _prelu_slope(fn: str, z, a):
    """Check PReLU's slope ``a``: a number, or an array of z's library whose shape broadcasts to z's."""
    if isinstance(a, numbers.Real) and not isinstance(a, bool):
        return number(fn, "a", a)
    a, _ = as_array(fn, "a", a)
    try:
        array_namespace(z, a)
    except TypeError:
        raise TypeError(f"{fn}: z is a {type(z).__name__} but a is a {type(a).__name__}; use one library") from None
    if not _broadcasts_to(_shape(a), _shape(z)):
        raise ValueError(f"{fn}: a has shape {_shape(a)}, which does not broadcast to z with shape {_shape(z)}")
    return a


def prelu(z, a):
    """Parametric ReLU: z where z > 0, a * z elsewhere, with the slope ``a`` learned during training.

    ``a`` is a number or an array broadcastable to z's shape, e.g. one slope per feature, shape (C,) for
    z of shape (N, C). Output has z's shape. Same as ``leaky_relu`` except that ``a`` is a parameter.
    """
    z, xp = as_array("prelu", "z", z)
    a = _prelu_slope("prelu", z, a)
    return xp.where(z > 0, z, a * z)


def prelu_grad(z, a):
    """Derivative of :func:`prelu` with respect to z: 1 where z > 0, else a (including z = 0, as in torch)."""
    z, xp = as_array("prelu_grad", "z", z)
    a = _prelu_slope("prelu_grad", z, a)
    one = xp.ones_like(z)
    return xp.where(z > 0, one, a * one)


def prelu_grad_a(z, a):
    """Derivative of :func:`prelu` with respect to the slope a, elementwise: 0 where z > 0, else z.

    Returns z's shape. When ``a`` is shared by many elements (a number, or shape (C,) for z of shape
    (N, C)), the gradient of a loss for ``a`` is ``grad_out * prelu_grad_a(z, a)`` summed over the
    axes that ``a`` was broadcast along.
    """
    z, xp = as_array("prelu_grad_a", "z", z)
    _prelu_slope("prelu_grad_a", z, a)
    return xp.where(z > 0, 0.0, z)


def elu(z, alpha: float = 1.0):
    """Exponential linear unit: z where z > 0, alpha * (exp(z) - 1) elsewhere. Range (-alpha, inf).

    Computed as alpha * expm1(min(z, 0)) on the negative side: expm1 stays accurate for small |z| and
    exp never sees a positive number.
    """
    z, xp = as_array("elu", "z", z)
    alpha = number("elu", "alpha", alpha, low=0)
    _, zn = _split(xp, z, z > 0)  # zn = min(z, 0)
    return xp.where(z > 0, z, alpha * xp.expm1(zn))


def elu_grad(z, alpha: float = 1.0):
    """Derivative of :func:`elu`: 1 where z > 0, else alpha * exp(z) (alpha at z = 0, as in torch)."""
    z, xp = as_array("elu_grad", "z", z)
    alpha = number("elu_grad", "alpha", alpha, low=0)
    _, zn = _split(xp, z, z > 0)
    return xp.where(z > 0, xp.ones_like(z), alpha * xp.exp(zn))


def swish(z, beta: float = 1.0):
    """Swish z * sigmoid(beta * z); with beta = 1 it is SiLU (``torch.nn.functional.silu``).

    Smooth, not monotonic: it dips to a minimum of about -0.278 / beta (for beta > 0) and then grows like
    relu. Range about [-0.278 / beta, inf) for beta > 0; same shape as z.
    """
    z, _ = as_array("swish", "z", z)
    beta = number("swish", "beta", beta)
    return z * sigmoid(beta * z)


def swish_grad(z, beta: float = 1.0):
    """Derivative of :func:`swish`: s + beta * z * s * (1 - s), with s = sigmoid(beta * z)."""
    z, _ = as_array("swish_grad", "z", z)
    beta = number("swish_grad", "beta", beta)
    s = sigmoid(beta * z)
    return s + beta * z * s * sigmoid(-beta * z)


silu = swish  # SiLU is swish with beta = 1 (the default)
silu_grad = swish_grad


# --------------------------------------------------------------------------------------------------------
# Softmax and log-softmax (mix the entries along one axis)


def softmax(z, axis: int = -1):
    """Softmax along ``axis``: exp(z_i) / sum_j exp(z_j). Same shape as z.

    Each slice along ``axis`` becomes a probability vector: entries in (0, 1) that sum to 1 (an entry
    can round to exactly 0). The maximum is subtracted first; softmax is unchanged by adding a constant to
    every entry, and afterwards exp sees only numbers <= 0, so it cannot overflow.
    """
    z, xp = as_array("softmax", "z", z)
    _check_axis("softmax", z, axis)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1):
    """Log of :func:`softmax` along ``axis``: z_i - logsumexp(z). Same shape as z; values in (-inf, 0].

    logsumexp(z) = m + log(sum_j exp(z_j - m)) with m = max(z), which never overflows, and the result
    stays finite where log(softmax(z)) would give log(0) = -inf.
    """
    z, xp = as_array("log_softmax", "z", z)
    _check_axis("log_softmax", z, axis)
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _check_grad_out(fn: str, z, grad_out):
    grad_out, _ = as_array(fn, "grad_out", grad_out)
    if _shape(grad_out) != _shape(z):
        raise ValueError(f"{fn}: grad_out has shape {_shape(grad_out)} but z has shape {_shape(z)}")
    return grad_out


def softmax_vjp(z, grad_out, axis: int = -1):
    """Gradient with respect to z of sum(grad_out * softmax(z)), i.e. the backward pass of softmax.

    With s = softmax(z) the Jacobian is ds_i/dz_j = s_i (delta_ij - s_j), so the product with g = grad_out
    is s * (g - sum(g * s)), the sum taken along ``axis``. ``grad_out`` must have z's shape; so has the result.
    """
    z, xp = as_array("softmax_vjp", "z", z)
    grad_out = _check_grad_out("softmax_vjp", z, grad_out)
    s = softmax(z, axis=axis)
    return s * (grad_out - xp.sum(grad_out * s, axis=axis, keepdims=True))


def log_softmax_vjp(z, grad_out, axis: int = -1):
    """Gradient with respect to z of sum(grad_out * log_softmax(z)): g - softmax(z) * sum(g).

    From d log s_i / dz_j = delta_ij - s_j, with the sum along ``axis``. ``grad_out`` must have z's shape;
    so has the result. With g = -onehot(y) this is softmax(z) - onehot(y), the cross-entropy gradient.
    """
    z, xp = as_array("log_softmax_vjp", "z", z)
    grad_out = _check_grad_out("log_softmax_vjp", z, grad_out)
    return grad_out - softmax(z, axis=axis) * xp.sum(grad_out, axis=axis, keepdims=True)


# name -> (activation, derivative), both with default parameters. PReLU is left out: its slope has no default.
ACTIVATIONS = {
    "step": (step, step_grad),
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "swish": (swish, swish_grad),
}
