"""CIFAR-10 from its official "python version" files, when a reader has them; the book never downloads them.

The archive ``cifar-10-python.tar.gz`` (Krizhevsky, 2009; https://www.cs.toronto.edu/~kriz/cifar.html)
unpacks to a folder ``cifar-10-batches-py`` holding ``data_batch_1`` ... ``data_batch_5`` (10,000 training
images each), ``test_batch`` (10,000) and ``batches.meta``. Each batch is a pickled dict: ``b"data"``, a
(10000, 3072) uint8 array whose rows hold one 32x32 image as 1,024 red values, then 1,024 green, then 1,024
blue, each row by row; and ``b"labels"``, a list of 10,000 class indices 0-9.

Point :func:`load_cifar10` at that folder, or set ``LESSONS_CIFAR10`` to it. Pickle files can run code when
they are loaded, so they are read with an unpickler that accepts only the few NumPy and built-in types a
CIFAR batch contains, and refuses anything else.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np

__all__ = ["CIFAR10_CLASSES", "CIFAR10_ENV", "load_cifar10", "read_cifar_batch", "write_cifar_batch"]

CIFAR10_ENV = "LESSONS_CIFAR10"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

_ALLOWED = {  # everything a CIFAR batch (written by NumPy 1 or 2) needs, nothing that runs code
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # how pickle protocol 2 stores bytes written by Python 3: text to bytes, nothing more
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"read_cifar_batch: the file asks for {module}.{name}, which a CIFAR batch never "
                                     "contains; refusing to load it (a pickle can run arbitrary code)")


def read_cifar_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file -> images (n, 3, 32, 32) uint8 (channels first, as torch expects) and labels (n,) int64."""
    path = Path(path)
    with open(path, "rb") as f:
        batch = _BatchUnpickler(io.BytesIO(f.read()), encoding="bytes").load()
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"read_cifar_batch: {path} holds {keys}; expected a dict with b'data' and b'labels'")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(f"read_cifar_batch: {path} has data {data.dtype} {data.shape} and {len(labels)} labels; "
                         "expected uint8 (n, 3072) and n labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"read_cifar_batch: {path} has labels from {labels.min()} to {labels.max()}; expected 0 to 9")
    return data.reshape(-1, 3, 32, 32), labels


def write_cifar_batch(path, images, labels) -> Path:
    """Write images (n, 3, 32, 32) uint8 and labels in CIFAR-10's batch format (for tests and small examples)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[1:] != (3, 32, 32):
        raise ValueError(f"write_cifar_batch: images are {images.dtype} {images.shape}; expected uint8 (n, 3, 32, 32)")
    batch = {b"batch_label": b"written by lessons_lib", b"data": images.reshape(len(images), -1),
             b"labels": [int(v) for v in labels]}
    path = Path(path)
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)
    return path


def load_cifar10(directory=None, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The real CIFAR-10: ``kind`` "train" (the five data batches, 50,000 images) or "test" (10,000).

    ``directory`` is the unpacked ``cifar-10-batches-py`` folder; by default the one ``LESSONS_CIFAR10``
    names. Returns images (n, 3, 32, 32) uint8 and labels (n,) int64 (names in ``CIFAR10_CLASSES``).
    """
    if kind not in ("train", "test"):
        raise ValueError(f"load_cifar10: kind is {kind!r}; expected 'train' or 'test'")
    if directory is None:
        directory = os.environ.get(CIFAR10_ENV)
        if not directory:
            raise FileNotFoundError(f"load_cifar10: no folder given and {CIFAR10_ENV} is not set. This book never "
                                    "downloads CIFAR-10: unpack cifar-10-python.tar.gz and set "
                                    f"{CIFAR10_ENV}=/path/to/cifar-10-batches-py, or use the bundled stand-in")
    directory = Path(directory)
    names = [f"data_batch_{i}" for i in range(1, 6)] if kind == "train" else ["test_batch"]
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise FileNotFoundError(f"load_cifar10: {directory} lacks {', '.join(missing)}; expected the unpacked "
                                "cifar-10-batches-py folder (data_batch_1 ... data_batch_5, test_batch)")
    parts = [read_cifar_batch(directory / n) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
