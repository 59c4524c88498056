"""MNIST-1D, generated procedurally by the mnist1d package, and the IDX format that MNIST itself uses
(:func:`read_idx`, :func:`write_idx`, :func:`load_mnist`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lessons_lib.data.splits import Split


def mnist1d(seed: int = 42) -> Split:
    """MNIST-1D (Greydanus, 2020): 4,000 training and 1,000 test signals of length 40, labels 0..9.

    Generated procedurally by the ``mnist1d`` package (about 1 s; seed 42 is the published dataset).
    The validation part is the last 10 % of the training signals.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    d = make_dataset(args)  # never get_dataset(): it tries a download and writes a file
    n_val = len(d["x"]) // 10
    X, y = d["x"].astype(np.float64), d["y"].astype(np.int64)
    return Split(X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:], d["x_test"].astype(np.float64), d["y_test"].astype(np.int64))


# -------------------------------------------------------------------------------------- IDX / MNIST

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the format MNIST is distributed in) into a NumPy array, from scratch.

    Layout: two zero bytes; one byte naming the element type (0x08 ubyte, 0x09 signed byte, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64); one byte ``ndim``; ``ndim`` big-endian uint32 sizes; then the
    elements in C order, big-endian. A path ending in ``.gz`` is decompressed first.
    """
    import gzip

    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path} is truncated: {len(raw)} bytes, too short for the 4-byte IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {path} has a bad magic number {raw[:4].hex()}; an IDX file starts with two zero bytes")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(f"read_idx: {path} has unknown dtype code 0x{code:02X}; expected one of {known}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated: the header announces {ndim} dimensions but the file ends early")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got < expected:
        raise ValueError(f"read_idx: {path} is truncated: shape {shape} needs {expected} data bytes, found {got}")
    if got > expected:
        raise ValueError(f"read_idx: {path} has {got - expected} bytes after the data that shape {shape} describes")
    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array) -> Path:
    """Write ``array`` (any shape, up to 255 axes) to an IDX file, the mirror image of :func:`read_idx`.

    The element-type byte comes from the array's dtype: uint8 0x08, int8 0x09, int16 0x0B, int32 0x0C,
    float32 0x0D, float64 0x0E; any other dtype (int64, bool, float16, ...) is a ValueError, so convert first
    (``labels.astype(np.uint8)``). Sizes and elements are written big-endian; a path ending in ``.gz`` is
    gzipped. Returns the path.
    """
    import gzip

    path, array = Path(path), np.asarray(array)
    codes = {np.dtype(kind).newbyteorder("=").str: code for code, kind in _IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("=").str)
    if code is None:
        known = ", ".join(str(np.dtype(kind).newbyteorder("=")) for kind in _IDX_DTYPES.values())
        raise ValueError(f"write_idx: array has dtype {array.dtype}, which IDX cannot store; expected one of {known}")
    if array.ndim > 255 or any(n >= 2**32 for n in array.shape):
        raise ValueError(f"write_idx: array has shape {array.shape}; IDX allows at most 255 axes of length < 2**32")
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).tobytes()  # C order, big-endian
    with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
        f.write(header + data)
    return path


def load_mnist(directory, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The real MNIST from its four standard IDX files, if you have them; the book never downloads them.

    ``kind`` is ``"train"`` (60,000 images) or ``"t10k"`` (10,000 test images). Looks in ``directory`` for
    ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte``, each optionally gzipped (``.gz``).
    Returns images (n, 28, 28) uint8 and labels (n,) int64.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"load_mnist: kind is {kind!r}; expected 'train' or 't10k'")
    directory = Path(directory)
    found = {}
    for part, stem in (("images", f"{kind}-images-idx3-ubyte"), ("labels", f"{kind}-labels-idx1-ubyte")):
        candidates = [directory / stem, directory / f"{stem}.gz"]
        match = next((p for p in candidates if p.is_file()), None)
        if match is None:
            expected = [f"{k}-{p}-idx{d}-ubyte[.gz]" for k in ("train", "t10k") for p, d in (("images", 3), ("labels", 1))]
            raise FileNotFoundError(
                f"load_mnist: no {stem} (or {stem}.gz) in {directory}. The four MNIST files are named "
                f"{', '.join(expected)}; this book never downloads them: put copies you already have in that folder, "
                f"or use the bundled 8x8 digits (lessons_lib.data.real.load('digits'))."
            )
        found[part] = match
    images, labels = read_idx(found["images"]), read_idx(found["labels"])
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(f"load_mnist: expected images of 3 dimensions and labels of 1, got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"load_mnist: {len(images)} images but {len(labels)} labels in {directory}")
    return images, labels.astype(np.int64)
