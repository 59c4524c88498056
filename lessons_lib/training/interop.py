"""Moving weights between the book's from-scratch layers and PyTorch.

Part I stores a dense layer's weights as ``W`` with shape (in, out), so that a batch ``X`` of shape
(n, in) maps to ``X @ W + b``. ``torch.nn.Linear`` stores ``weight`` as (out, in) and computes
``X @ weight.T + bias``: the same layer, with the matrix transposed.
"""

from __future__ import annotations

import numpy as np
import torch


def copy_linear_(linear: torch.nn.Linear, W, b=None) -> torch.nn.Linear:
    """Load a from-scratch dense layer into ``linear`` in place, and return it.

    W: (in, out), the Part I convention; a 1-D W of length ``in`` is one output unit.
    b: (out,) or a number; None leaves the bias as it is.
    """
    W = np.asarray(W, dtype=np.float64)
    W = W[:, None] if W.ndim == 1 else W  # one unit: (in,) -> (in, 1)
    want = (linear.in_features, linear.out_features)
    if W.shape != want:
        raise ValueError(f"copy_linear_: W has shape {W.shape}; expected (in, out) = {want} for {linear}")
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(W.T.copy(), dtype=linear.weight.dtype))  # (in, out) -> (out, in)
        if b is not None:
            if linear.bias is None:
                raise ValueError(f"copy_linear_: b was given but {linear} has no bias")
            bias = torch.as_tensor(np.broadcast_to(np.asarray(b, dtype=np.float64), (linear.out_features,)).copy())
            linear.bias.copy_(bias.to(linear.bias.dtype))
    return linear


# Activation layers of the from-scratch library, by class name, and the torch module that computes the same.
_ACTIVATION_MODULES = {
    "Sigmoid": lambda layer: torch.nn.Sigmoid(),
    "Tanh": lambda layer: torch.nn.Tanh(),
    "ReLU": lambda layer: torch.nn.ReLU(),
    "LeakyReLU": lambda layer: torch.nn.LeakyReLU(negative_slope=layer.negative_slope),
    "Identity": lambda layer: torch.nn.Identity(),
    "Dropout": lambda layer: torch.nn.Dropout(p=layer.p),
}


def to_torch(model, dtype=torch.float64) -> torch.nn.Sequential:
    """A ``torch.nn.Sequential`` with the same layers and weights as a from-scratch ``Sequential``.

    model: anything with a ``layers`` list (nested ones too) of dense layers (``W`` (in, out), ``b`` (out,)
           or None) and activations named Sigmoid, Tanh, ReLU, LeakyReLU, Identity or Dropout.
    The layers are recognised by what they hold, not by their class, so this module needs nothing from
    the from-scratch package. Returns a new model in ``dtype``; ``model`` itself is not changed.
    """
    if not hasattr(model, "layers"):
        raise ValueError(f"to_torch: model {model!r} has no list of layers; expected a Sequential")
    modules = []
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "layers"):
            modules.append(to_torch(layer, dtype))
        elif hasattr(layer, "W"):
            W = np.asarray(layer.W.data)
            b = None if getattr(layer, "b", None) is None else layer.b.data
            linear = torch.nn.Linear(W.shape[0], W.shape[1], bias=b is not None, dtype=dtype)
            modules.append(copy_linear_(linear, W, b))
        elif type(layer).__name__ in _ACTIVATION_MODULES:
            modules.append(_ACTIVATION_MODULES[type(layer).__name__](layer))
        else:
            raise ValueError(f"to_torch: layer {i} is {layer!r}; expected a dense layer (with W) or one of "
                             f"{', '.join(_ACTIVATION_MODULES)}")
    return torch.nn.Sequential(*modules).to(dtype)
