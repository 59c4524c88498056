"""Real data that ships inside scikit-learn (nothing downloaded): digits, breast cancer, diabetes, iris,
and the two sample photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lessons_lib.data.tables import Table
from lessons_lib.validate import unknown

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
        raise unknown("load: name", name, REAL)
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
