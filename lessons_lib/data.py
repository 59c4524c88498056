"""Every dataset the book uses, all offline: nothing is downloaded, ever.

- toy 2-D sets made in code: :func:`toy` (``xor``, ``moons``, ``circles``, ``spirals``, ``blobs``);
- the running examples of the chapters as synthetic tables generated from stated true parameters, so that
  training can be seen to recover them: :func:`employee_bonus`, :func:`insurance`, :func:`century`;
- real data bundled with scikit-learn: :func:`load` (``digits``, ``breast_cancer``, ``diabetes``,
  ``iris``) and :func:`sample_images`;
- MNIST-1D, generated procedurally: :func:`mnist1d`;
- an English corpus from text that ships with Python itself: :func:`text_corpus`;
- a seeded train/validation/test split: :func:`split`.

:func:`load_dataset` reaches all of them by name.
"""

from __future__ import annotations

import ast
import difflib
import functools
import os
import string
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np


@dataclass
class Table:
    """A tabular dataset: ``X`` (n, d), ``y`` (n,), the column names and, for synthetic data, the truth.

    ``true_params`` holds the parameters the data was generated from (empty for real data), so that a
    chapter can compare what training learned with what is actually there.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    description: str
    true_params: dict[str, Any] = field(default_factory=dict)
    target_names: list[str] | None = None

    def __repr__(self) -> str:
        names = self.feature_names if len(self.feature_names) <= 6 else [*self.feature_names[:5], "..."]
        return f"Table({self.target_name!r}: X {self.X.shape}, y {self.y.shape}, features {names})"


class Split(NamedTuple):
    """Train, validation and test parts of a dataset."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


# ------------------------------------------------------------------------------------------- checks


def _check_n(fn: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{fn}: n is {n!r}; expected a positive integer")
    return int(n)


def _check_noise(fn: str, noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{fn}: noise is {noise!r}; expected a finite number >= 0")
    return float(noise)


def _unknown(kind: str, name: str, valid) -> ValueError:
    close = difflib.get_close_matches(str(name), list(valid), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"{kind} {name!r} is unknown{hint}; expected one of {', '.join(valid)}")


# ------------------------------------------------------------------------------------------- toy sets


def toy(name: str, n: int = 200, noise: float = 0.1, seed: int = 0, classes: int | None = None):
    """A 2-D classification toy set: returns ``X`` (n, 2) float64 and ``y`` (n,) int64 labels.

    name:    ``xor`` (label 1 where the two coordinates have opposite signs), ``moons``, ``circles``,
             ``spirals`` (``classes`` arms, default 2), ``blobs`` (``classes`` Gaussian clusters, default 3).
    noise:   standard deviation of the Gaussian noise added to the points.
    """
    makers = {"xor": _xor, "moons": _moons, "circles": _circles, "spirals": _spirals, "blobs": _blobs}
    if name not in makers:
        raise _unknown("toy: name", name, makers)
    n = _check_n("toy", n)
    noise = _check_noise("toy", noise)
    if classes is not None and name not in ("spirals", "blobs"):
        raise ValueError(f"toy: classes is only for 'spirals' and 'blobs', not {name!r}")
    if classes is not None and (not isinstance(classes, (int, np.integer)) or classes < 2):
        raise ValueError(f"toy: classes is {classes!r}; expected an integer >= 2")
    rng = np.random.default_rng(seed)
    X, y = makers[name](n, noise, rng, classes)
    return X.astype(np.float64), y.astype(np.int64)


def _xor(n, noise, rng, _):
    X = rng.uniform(-1, 1, size=(n, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(int)
    return X + noise * rng.standard_normal((n, 2)), y


def _moons(n, noise, rng, _):
    y = np.arange(n) % 2
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + noise * rng.standard_normal((n, 2)), y


def _circles(n, noise, rng, _):
    y = np.arange(n) % 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, 0.5)
    X = radius[:, None] * np.c_[np.cos(t), np.sin(t)]
    return X + noise * rng.standard_normal((n, 2)), y


def _spirals(n, noise, rng, classes):
    k = classes or 2
    y = np.arange(n) % k
    r = rng.uniform(0.05, 1.0, n)  # distance from the centre, also how far along its arm a point is
    angle = 2 * np.pi * y / k + 3.5 * r
    X = r[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + noise * rng.standard_normal((n, 2)), y


def _blobs(n, noise, rng, classes):
    k = classes or 3
    y = np.arange(n) % k
    centres = 2.0 * np.c_[np.cos(2 * np.pi * np.arange(k) / k), np.sin(2 * np.pi * np.arange(k) / k)]
    return centres[y] + noise * rng.standard_normal((n, 2)), y


# ----------------------------------------------------------------------------- running-example tables


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # equal to 1 / (1 + exp(-z)), without overflow


BONUS_TRUE = {"weights": {"performance": 1.5, "years_of_experience": 0.4, "projects_completed": 0.25}, "bias": 2.0}


def employee_bonus(n: int = 200, noise: float = 0.3, seed: int = 0) -> Table:
    """Yearly bonus (in thousands) from performance rating, years of experience and projects completed.

    Generated as ``bonus = 1.5 performance + 0.4 years + 0.25 projects + 2.0 + noise``: a linear model
    with these weights is the truth, so gradient descent should recover them (up to the noise).
    """
    n = _check_n("employee_bonus", n)
    noise = _check_noise("employee_bonus", noise)
    rng = np.random.default_rng(seed)
    performance = rng.integers(1, 6, n).astype(float)  # rating 1..5
    years = np.round(rng.uniform(0, 10, n), 1)
    projects = rng.integers(0, 11, n).astype(float)
    X = np.c_[performance, years, projects]
    w = np.array(list(BONUS_TRUE["weights"].values()))
    y = X @ w + BONUS_TRUE["bias"] + noise * rng.standard_normal(n)
    return Table(
        X, y, list(BONUS_TRUE["weights"]), "bonus",
        "employee bonus (thousands) = 1.5 performance + 0.4 years + 0.25 projects + 2.0 + Gaussian noise",
        {"weights": w, "bias": BONUS_TRUE["bias"], "noise": noise},
    )


# The insurance network: 4 inputs -> 2 hidden sigmoid units -> 1 sigmoid output.
# Inputs enter standardised with these fixed centres and scales, so the weights are comparable.
INSURANCE_FEATURES = ["age", "education_years", "income_k", "savings_k"]
INSURANCE_CENTRE = np.array([40.0, 14.0, 60.0, 50.0])
INSURANCE_SCALE = np.array([12.0, 3.0, 25.0, 40.0])
INSURANCE_TRUE = {
    # columns: h1 = awareness (driven by age and education), h2 = affordability (income and savings)
    "W1": np.array([[1.5, 0.2], [2.0, 0.1], [0.3, 2.5], [0.1, 2.0]]),
    "b1": np.array([-0.5, -0.5]),
    "w2": np.array([4.0, 5.0]),
    "b2": -4.5,
}


def insurance(n: int = 500, seed: int = 0) -> Table:
    """Did a customer buy insurance? Four inputs, labels drawn from a stated 4-2-1 sigmoid network.

    The hidden units are awareness ``h1 = sigma(x W1[:, 0] + b1[0])`` and affordability ``h2``; the
    output is ``O = sigma(w2 . h + b2)`` and the label is 1 with probability O. Inputs are standardised
    with ``INSURANCE_CENTRE`` and ``INSURANCE_SCALE`` before entering the network.
    """
    n = _check_n("insurance", n)
    rng = np.random.default_rng(seed)
    X = np.c_[
        rng.uniform(18, 70, n),
        np.clip(np.round(rng.normal(14, 3, n)), 8, 22),
        np.clip(rng.lognormal(np.log(55), 0.45, n), 10, 250),
        np.clip(rng.lognormal(np.log(30), 1.0, n), 0, 400),
    ]
    p = insurance_network((X - INSURANCE_CENTRE) / INSURANCE_SCALE)
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return Table(
        X, y, INSURANCE_FEATURES, "bought",
        "insurance purchase: labels drawn from a stated 4-2-1 sigmoid network (see INSURANCE_TRUE)",
        {**INSURANCE_TRUE, "centre": INSURANCE_CENTRE, "scale": INSURANCE_SCALE},
        target_names=["no", "yes"],
    )


def insurance_network(Z: np.ndarray, params: dict | None = None) -> np.ndarray:
    """The true insurance network on standardised inputs ``Z`` (n, 4): returns P(buy), shape (n,)."""
    p = INSURANCE_TRUE if params is None else params
    H = _sigmoid(Z @ p["W1"] + p["b1"])  # (n, 2): awareness, affordability
    return _sigmoid(H @ p["w2"] + p["b2"])


CENTURY_FEATURES = ["hand_eye_coordination", "diet", "fitness_routine", "height"]
CENTURY_HIDDEN = ["running", "timing", "technique", "muscle_power", "luck"]
CENTURY_TRUE = {
    # W1[i, j]: weight from input i to hidden unit j. The running column starts 0.7, 2.1, 2.7 as in the
    # chapter; luck has no input weights at all, so it is the same for every player.
    "W1": np.array(
        [
            [0.7, 2.5, 1.8, 0.0, 0.0],
            [2.1, 0.0, 0.0, 1.5, 0.0],
            [2.7, 0.5, 0.4, 2.0, 0.0],
            [0.3, 0.0, 0.2, 0.8, 0.0],
        ]
    ),
    "b1": np.array([-1.0, 0.0, 0.0, -0.5, 0.0]),
    "w2": np.array([1.1, 3.0, 4.0, 2.7, 0.1]),
    # With every hidden unit in (0, 1) and all output weights positive, a bias of +1.2 would make
    # P(century) > sigma(1.2) = 0.77 for every player; -5.5 puts the classes near balance instead.
    "b2": -5.5,
}


def century(n: int = 500, seed: int = 0) -> Table:
    """Will a batter score a century? Four standardised inputs, labels from a stated 4-5-1 network."""
    n = _check_n("century", n)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    p = century_network(X)
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return Table(
        X, y, CENTURY_FEATURES, "century",
        "will score a century: 4 standardised inputs -> 5 sigmoid hidden units -> sigmoid output (CENTURY_TRUE)",
        {**CENTURY_TRUE, "hidden_names": CENTURY_HIDDEN},
        target_names=["no", "yes"],
    )


def century_network(X: np.ndarray, params: dict | None = None) -> np.ndarray:
    """The true century network on inputs ``X`` (n, 4): returns P(century), shape (n,)."""
    p = CENTURY_TRUE if params is None else params
    H = _sigmoid(X @ p["W1"] + p["b1"])  # (n, 5)
    return _sigmoid(H @ p["w2"] + p["b2"])


# ---------------------------------------------------------------------------------- scikit-learn data

REAL = ("digits", "breast_cancer", "diabetes", "iris")


def load(name: str) -> Table:
    """A real dataset bundled with scikit-learn (no download).

    ``digits``: 1,797 handwritten digits, 8x8 pixels flattened to 64 columns with values 0..16.
    ``breast_cancer``: 569 tumours, 30 measurements, target 1 = benign, 0 = malignant.
    ``diabetes``: 442 patients, 10 standardised measurements, target = disease progression after a year.
    ``iris``: 150 flowers, 4 measurements, 3 species.
    """
    from sklearn import datasets

    if name not in REAL:
        raise _unknown("load: name", name, REAL)
    bunch = getattr(datasets, f"load_{name}")()
    target_names = [str(t) for t in bunch.target_names] if "target_names" in bunch else None
    y = bunch.target.astype(np.int64) if name != "diabetes" else bunch.target.astype(np.float64)
    names = [str(f) for f in bunch.feature_names]
    first = bunch.DESCR.strip().splitlines()
    description = next((line for line in first if line.strip() and not line.startswith("..")), name)
    target = {"digits": "digit", "breast_cancer": "benign", "diabetes": "progression", "iris": "species"}[name]
    return Table(bunch.data.astype(np.float64), y, names, target, description, target_names=target_names)


def sample_images() -> dict[str, np.ndarray]:
    """scikit-learn's two sample photos, ``china`` and ``flower``: uint8 arrays of shape (427, 640, 3)."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return {Path(f).stem: img for f, img in zip(bunch.filenames, bunch.images)}


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


# ---------------------------------------------------------------------------------------- text corpus

_CORPUS_SKIP = {
    "test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "tkinter", "turtledemo", "ensurepip",
    "venv", "__pycache__",
}
_KEEP = set(string.printable) - set("\x0b\x0c\r\t")


@functools.lru_cache(maxsize=1)
def text_corpus() -> str:
    """English text that ships with Python: the standard library's docstrings plus ``pydoc_data.topics``.

    About 2.3 million characters of printable ASCII. Docstrings are read from the source files (nothing
    is imported, nothing downloaded). The first call takes a few seconds; the result is cached in
    ``~/.cache/lessons_lib`` (or ``$XDG_CACHE_HOME``) and in memory.
    """
    import sys

    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lessons_lib"
    cache = cache_root / f"corpus-py{sys.version_info.major}.{sys.version_info.minor}.txt"
    if cache.is_file():
        return cache.read_text(encoding="utf-8")
    text = _build_corpus()
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return text


def _build_corpus() -> str:
    from pydoc_data.topics import topics

    root = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in _CORPUS_SKIP or part.startswith("config-") for part in rel.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    parts.append(doc)
    parts += [topics[key] for key in sorted(topics)]
    text = "\n\n".join(parts).replace("\t", "    ")
    return "".join(ch for ch in text if ch in _KEEP)


# ----------------------------------------------------------------------------------------------- split


def split(X, y, fractions=(0.8, 0.1, 0.1), seed: int = 0, stratify: bool = False) -> Split:
    """Shuffle with a seeded generator and cut into train, validation and test parts (80/10/10 default).

    ``stratify=True`` keeps the class proportions of ``y`` in every part (classification only).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"split: X has {len(X)} rows but y has {len(y)}")
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or (f < 0).any() or f[0] == 0 or not np.isclose(f.sum(), 1.0):
        raise ValueError(
            f"split: fractions is {tuple(fractions)!r}; expected three non-negative numbers "
            "(train, validation, test) with train > 0, summing to 1"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        parts = [[], [], []]
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            for part, chunk in zip(parts, _cut(idx, f)):
                part.append(chunk)
        train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    else:
        train, val, test = _cut(rng.permutation(len(X)), f)
    for part, frac, name in zip((train, val, test), f, ("train", "validation", "test")):
        if frac > 0 and len(part) == 0:
            raise ValueError(f"split: {len(X)} samples leave the {name} part empty; use more data or a larger fraction")
    return Split(X[train], y[train], X[val], y[val], X[test], y[test])


def _cut(idx: np.ndarray, f: np.ndarray):
    n = len(idx)
    n_train = int(round(f[0] * n))
    n_val = int(round(f[1] * n))
    n_val = min(n_val, n - n_train)
    return idx[:n_train], idx[n_train : n_train + n_val], idx[n_train + n_val :]


def batches(n: int, batch_size: int, *, rng: np.random.Generator | None = None, drop_last: bool = False):
    """Yield index arrays that cover ``range(n)`` in mini-batches of ``batch_size``.

    With ``rng`` the order is shuffled by that generator (a new permutation on every call, i.e. every
    epoch); without it the order is 0..n-1. The last batch is smaller when ``batch_size`` does not
    divide ``n``, unless ``drop_last``. So an epoch has ceil(n / batch_size) iterations: 10,000 samples
    in batches of 100 give 100 iterations.
    """
    n = _check_n("batches", n)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batches: batch_size is {batch_size!r}; expected a positive integer")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def kfold(n: int, k: int = 5, *, rng: np.random.Generator | None = None):
    """Yield ``(train_idx, val_idx)`` for k-fold cross-validation over ``range(n)``.

    Every index is in exactly one validation fold; fold sizes differ by at most one. ``rng`` shuffles
    the indices first (recommended unless the data order is already random).
    """
    n = _check_n("kfold", n)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(f"kfold: k is {k!r}; expected an integer between 2 and n = {n}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for val in np.array_split(order, k):
        yield np.setdiff1d(order, val, assume_unique=True), val


# ------------------------------------------------------------------------------------------ by name

_TABLES = {"employee_bonus": employee_bonus, "insurance": insurance, "century": century}
DATASETS = ("xor", "moons", "circles", "spirals", "blobs", *_TABLES, *REAL, "mnist1d", "text_corpus")


def load_dataset(name: str, **kwargs):
    """Any dataset of the book by name (see ``DATASETS``); keyword arguments go to its function."""
    if name in ("xor", "moons", "circles", "spirals", "blobs"):
        return toy(name, **kwargs)
    if name in _TABLES:
        return _TABLES[name](**kwargs)
    if name in REAL:
        return load(name, **kwargs)
    if name == "mnist1d":
        return mnist1d(**kwargs)
    if name == "text_corpus":
        return text_corpus(**kwargs)
    raise _unknown("load_dataset: name", name, DATASETS)


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
                f"or use the bundled 8x8 digits (lessons_lib.data.load('digits'))."
            )
        found[part] = match
    images, labels = read_idx(found["images"]), read_idx(found["labels"])
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(f"load_mnist: expected images of 3 dimensions and labels of 1, got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"load_mnist: {len(images)} images but {len(labels)} labels in {directory}")
    return images, labels.astype(np.int64)
