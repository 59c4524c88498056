"""Save a from-scratch model to disk and load it back (Chapter 8).

A checkpoint is two files side by side:

- ``<path>.npz``: the learned parameters, one array per name of ``model.named_parameters()``
  (``"0.W"``, ``"0.b"``, ``"2.W"``, ...), written with :func:`numpy.savez`;
- ``<path>.json``: everything else needed to use them: the layer architecture (type and settings of
  every layer, in order) and the hyperparameters the model was trained with, which the caller passes in.

The weights alone are not enough to predict: without the architecture you cannot rebuild the network
they belong to, and without the hyperparameters (the preprocessing, for instance) you cannot feed it
correctly. :func:`load` reads both files and rebuilds an identical ``Sequential``.

Example::

    >>> save(net, "digits_mlp", {"lr": 0.2, "epochs": 40, "input_scale": 1 / 16})
    (PosixPath('digits_mlp.npz'), PosixPath('digits_mlp.json'))
    >>> net2, hp = load("digits_mlp")      # same predictions as net
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from lessons_lib.scratch.layers import ACTIVATION_LAYERS, LeakyReLU, Linear, Sequential

FORMAT = "lessons_lib.checkpoint/1"
# Activations without parameters, by class name (LeakyReLU carries its slope and is handled apart).
_ACTIVATIONS = {cls.__name__: cls for cls in ACTIVATION_LAYERS.values() if cls is not LeakyReLU}


class Loaded(NamedTuple):
    """What :func:`load` returns: the rebuilt model and the hyperparameters saved with it."""

    model: Sequential
    hyperparameters: dict[str, Any]


def _paths(path) -> tuple[Path, Path]:
    """``"run/model"``, ``"run/model.npz"`` and ``"run/model.json"`` all name the same checkpoint."""
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


# ------------------------------------------------------------------------------------- architecture


def architecture_of(layer) -> dict[str, Any]:
    """A JSON-ready description of a layer (recursively for a ``Sequential``); its weights are not included."""
    kind = type(layer)  # exact types: a subclass may behave differently from the class it would be rebuilt as
    if kind is Sequential:
        return {"type": "Sequential", "layers": [architecture_of(child) for child in layer.layers]}
    if kind is Linear:
        return {"type": "Linear", "in_features": layer.in_features, "out_features": layer.out_features,
                "bias": layer.b is not None, "dtype": str(layer.W.data.dtype)}
    if kind is LeakyReLU:
        return {"type": "LeakyReLU", "negative_slope": float(layer.negative_slope)}
    if _ACTIVATIONS.get(kind.__name__) is kind:
        return {"type": kind.__name__}
    raise TypeError(f"checkpoint: cannot describe a {type(layer).__name__} layer; "
                    f"expected Sequential, Linear, LeakyReLU or one of {', '.join(_ACTIVATIONS)}")


def build(spec: dict[str, Any]):
    """Rebuild an (untrained) layer from :func:`architecture_of`'s output; Linear weights start at zero."""
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind == "Sequential":
        return Sequential(*(build(child) for child in spec["layers"]))
    if kind == "Linear":
        return Linear(spec["in_features"], spec["out_features"], init="zeros", bias=spec["bias"],
                      dtype=np.dtype(spec["dtype"]))
    if kind == "LeakyReLU":
        return LeakyReLU(spec["negative_slope"])
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind]()
    raise ValueError(f"checkpoint: unknown layer {spec!r} in the architecture; expected a dict whose 'type' is "
                     f"Sequential, Linear, LeakyReLU or one of {', '.join(_ACTIVATIONS)}")


# ---------------------------------------------------------------------------------------- save, load


def save(model: Sequential, path, hyperparameters: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``model``'s parameters to ``<path>.npz`` and its architecture and hyperparameters to ``<path>.json``.

    hyperparameters: any JSON-serialisable dict (NumPy numbers and arrays are converted), e.g. the
    learning rate, epochs, batch size and the input scaling used in training.
    Returns the two paths written.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"save: model is a {type(model).__name__}; expected a lessons_lib.scratch.layers.Sequential")
    weights_path, meta_path = _paths(path)
    hyperparameters = dict(hyperparameters or {})
    try:
        hp_json = json.dumps(hyperparameters, default=_to_json)
    except TypeError as exc:
        raise TypeError(f"save: hyperparameters must be JSON-serialisable: {exc}") from None
    params = {name: p.data for name, p in model.named_parameters()}
    meta = {
        "format": FORMAT,
        "architecture": architecture_of(model),
        "parameters": {name: list(a.shape) for name, a in params.items()},
        "n_parameters": int(sum(a.size for a in params.values())),
        "hyperparameters": json.loads(hp_json),
    }
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    with open(weights_path, "wb") as f:  # an open file: np.savez would otherwise append its own ".npz"
        np.savez(f, **params)
    meta_path.write_text(_pretty(meta) + "\n", encoding="utf-8")
    return weights_path, meta_path


def _pretty(value, level: int = 0) -> str:
    """JSON text indented like ``json.dumps(indent=2)``, but with lists of plain values on one line."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {_pretty(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + _pretty(v, level + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value)


def _to_json(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not JSON-serialisable")


def load(path, model: Sequential | None = None) -> Loaded:
    """Read a checkpoint written by :func:`save`; return ``Loaded(model, hyperparameters)``.

    Without ``model`` the network is rebuilt from the saved architecture. With ``model``, the weights are
    copied into it after checking that its architecture is the saved one (a ``ValueError`` says where
    they differ). Missing files raise ``FileNotFoundError`` naming the file.
    """
    weights_path, meta_path = _paths(path)
    for file, what in ((meta_path, "architecture and hyperparameters"), (weights_path, "weights")):
        if not file.is_file():
            raise FileNotFoundError(f"load: no checkpoint file {file} (the {what}); save(model, {str(path)!r}, ...) writes it")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"load: {meta_path} has format {meta.get('format')!r}; expected {FORMAT!r}")
    if model is None:
        model = build(meta["architecture"])
    else:
        _check_same_architecture(architecture_of(model), meta["architecture"], meta_path)
    with np.load(weights_path) as arrays:  # allow_pickle stays False: only plain arrays are read
        stored = {name: arrays[name] for name in arrays.files}
    expected = dict(model.named_parameters())
    missing, unexpected = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise ValueError(f"load: the weights in {weights_path} do not match the architecture: "
                         f"missing {missing or 'none'}, unexpected {unexpected or 'none'}")
    for name, p in expected.items():
        if stored[name].shape != p.data.shape:
            raise ValueError(f"load: parameter {name} has shape {stored[name].shape} in {weights_path} "
                             f"but the architecture needs {p.data.shape}")
        p.data[...] = stored[name]
        p.zero_grad()
    return Loaded(model, meta["hyperparameters"])


def _check_same_architecture(got: dict, saved: dict, where, at: str = "model") -> None:
    """Raise a ValueError naming the first layer where two descriptions differ."""
    if got.get("type") == saved.get("type") == "Sequential":
        a, b = got["layers"], saved["layers"]
        if len(a) != len(b):
            raise ValueError(f"load: {at} has {len(a)} layers but the checkpoint {where} has {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _check_same_architecture(x, y, where, f"{at}[{i}]")
    elif got != saved:
        raise ValueError(f"load: {at} is {_short(got)} but the checkpoint {where} has {_short(saved)}")


def _short(spec: dict) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "type")
    return f"{spec.get('type')}({settings})"
