"""Saving a trained model so that someone else can use it, and exporting it to ONNX (appendix I).

A state_dict alone is not a usable model: whoever loads it also needs the code that builds the architecture and its
settings, the preprocessing the inputs went through (a scaler's mean and scale, a vocabulary), the meaning of each
output (the label map) and the versions it was trained with. :func:`save_bundle` writes all of it into one folder:

    model.safetensors   the tensors, in the safetensors format (no code inside, so loading runs nothing)
    bundle.json         the model's class and config, the preprocessing, the labels, the versions

and :func:`load_bundle` reads it back. Weights saved with ``torch.save`` are a pickle, and unpickling can run
arbitrary code; ``torch.load(path, weights_only=True)`` (the default since PyTorch 2.6) refuses anything but
tensors and plain containers, and safetensors cannot hold code at all.

:func:`export_onnx` writes the model as an ONNX graph (``torch.onnx.export`` with the dynamo exporter, a dynamic
batch dimension) and :func:`onnx_session` / :func:`onnx_predict` run it with ONNX Runtime, which needs neither
PyTorch nor Python on the serving side.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

__all__ = ["export_onnx", "git_commit", "load_bundle", "onnx_predict", "onnx_session", "save_bundle", "size_on_disk"]

BUNDLE_FORMAT = 1


def _class_name(model: torch.nn.Module) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def git_commit(directory=".") -> str | None:
    """The commit hash (40 hex digits) checked out in the git repository that holds ``directory``, with
    ``"-dirty"`` appended when tracked files have uncommitted changes; None when there is no repository or no git."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("diff", "--quiet", "HEAD", "--").returncode == 1
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def save_bundle(directory, model: torch.nn.Module, *, config: dict, labels: list[str],
                preprocessing: dict | None = None, code_version: str | None = None) -> Path:
    """Write ``model``'s weights and everything needed to use them into ``directory`` (created if missing).

    ``config`` holds the arguments that rebuild the architecture, ``labels`` names output k, ``preprocessing``
    holds what the inputs went through (JSON-serialisable values: lists, numbers, strings), ``code_version``
    identifies the code that trained it (a commit hash, e.g. from :func:`git_commit`; stored as
    ``versions["code"]`` when given). Returns the folder."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    save_file(state, directory / "model.safetensors")
    meta = {"format": BUNDLE_FORMAT, "model_class": _class_name(model), "config": config, "labels": list(labels),
            "preprocessing": preprocessing or {},
            "versions": {"torch": torch.__version__, "lessons_lib": version("lessons_lib")}}
    if code_version is not None:
        if not isinstance(code_version, str):
            raise TypeError(f"save_bundle: code_version must be a string (a commit hash), got {type(code_version).__name__}")
        meta["versions"]["code"] = code_version
    try:
        text = json.dumps(meta, indent=1)
    except TypeError as error:
        raise TypeError(f"save_bundle: config, labels and preprocessing must be JSON values: {error}") from None
    (directory / "bundle.json").write_text(text + "\n")
    return directory


def load_bundle(directory, build: Callable[..., torch.nn.Module], *, device=None) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model saved by :func:`save_bundle`: ``build(**config)`` makes the architecture, the weights are
    loaded strictly (every tensor present, no extra one), and the model is returned in eval mode with the bundle's
    metadata. The builder is passed in rather than imported from the file's class name: a file never decides what
    code runs."""
    from safetensors.torch import load_file

    directory = Path(directory)
    if not (directory / "bundle.json").is_file() or not (directory / "model.safetensors").is_file():
        raise FileNotFoundError(f"load_bundle: {directory} is not a bundle (it needs bundle.json and "
                                "model.safetensors, as save_bundle writes them)")
    meta = json.loads((directory / "bundle.json").read_text())
    if meta.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"load_bundle: bundle format {meta.get('format')!r}, this code reads format {BUNDLE_FORMAT}")
    model = build(**meta["config"])
    if _class_name(model) != meta["model_class"]:
        raise TypeError(f"load_bundle: the bundle holds a {meta['model_class']} but build made a {_class_name(model)}")
    model.load_state_dict(load_file(directory / "model.safetensors", device=str(device or "cpu")), strict=True)
    return model.eval(), meta


def size_on_disk(path) -> int:
    """Bytes taken by a file, or by every file under a folder."""
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_onnx(model: torch.nn.Module, example: torch.Tensor, path, *, dynamic_batch: bool = True) -> Path:
    """Export ``model`` (one tensor in, one tensor out) to an ONNX file with the dynamo exporter.

    ``example`` (B, ...) fixes every dimension but the first, which stays symbolic ("batch") when ``dynamic_batch``
    is true, so the exported graph accepts any batch size. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    dynamic = ({0: torch.export.Dim("batch", min=1)},) if dynamic_batch else None
    # the exporter traces with a batch of 2 or more: a batch of 1 would be specialised to the constant 1
    if dynamic_batch and example.shape[0] < 2:
        example = example.expand(2, *example.shape[1:]).contiguous()
    registry_log = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry_log.level
    registry_log.setLevel(logging.ERROR)      # "torchvision is not installed. Skipping torchvision::nms" x4: noise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            program = torch.onnx.export(model, (example,), dynamo=True, dynamic_shapes=dynamic, input_names=["input"],
                                        output_names=["output"], verbose=False)
    finally:
        registry_log.setLevel(level)
    program.save(str(path))
    return path


def onnx_session(path):
    """An ONNX Runtime inference session on the CPU for the file at ``path``."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3            # errors only
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_predict(session, x) -> np.ndarray:
    """Run an ONNX Runtime session on ``x`` (a NumPy array or a CPU tensor, float32) and return its first output."""
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    expected = session.get_inputs()[0]
    if x.dtype != np.float32:
        raise TypeError(f"onnx_predict: x has dtype {x.dtype}, the graph's input {expected.name!r} expects float32")
    return session.run(None, {expected.name: x})[0]
